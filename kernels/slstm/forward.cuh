// The fused sLSTM forward (kernels.md §3, §5.2): ONE persistent kernel runs all S steps,
//   g_t = wx_t + R^T y_{t-1} + b (4 gates per unit), pointwise -> y_t, c_t, n_t, m_t (states fp32).
// Per step: the recurrent product on the register-resident R (warp_product.cuh), the pointwise update
// in the threads that own the (row, unit) pairs, y_t written as the next step's MMA operand straight
// into the shared memory of every CTA of the cluster (DSMEM, double-buffered), one cluster barrier. No
// grid-wide sync and no global round trip sit on the serial chain; wx is prefetched Depth steps ahead,
// y and the backward's caches (gate pre-activations, c, n, m) are stored off the chain.
#pragma once

#include "slstm/pointwise.cuh"
#include "slstm/warp_product.cuh"

namespace xlstm::kernels {

template <class T, int KST, int KSPLIT, int MT>
__global__ void __launch_bounds__(kSlstmMaxThreads, 1) slstm_fw_kernel(SlstmParams p) {
  constexpr bool kFast = !std::is_same_v<T, float>;
  constexpr int kDepth = kSlstmRingDepth<T, false>;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  SlstmWarp<T, KST, KSPLIT, MT, false> w(p);
  const SlstmSmem layout = slstm_smem<T, MT, false>(p);
  const int DH = p.DH, H = p.NH * DH, ld = w.ld;
  const int64_t BH = static_cast<int64_t>(p.B) * H;
  T* vec[2] = {reinterpret_cast<T*>(smem_raw), reinterpret_cast<T*>(smem_raw + layout.vec)};
  StepRing<RawPair<T>, 8 * MT, kDepth> ring{reinterpret_cast<RawPair<T>*>(smem_raw + 2 * layout.vec),
                                            static_cast<int>(blockDim.x)};
  float* red = reinterpret_cast<float*>(smem_raw + 2 * layout.vec + layout.ring);
  float* rs = red + layout.red / sizeof(float);

  // Buffer 0 = y_0 of the whole tile, buffer 1 = zeros (rows past B stay zero in both).
  for (int idx = threadIdx.x; idx < 16 * MT * ld; idx += blockDim.x) {
    const int r = idx / ld, d = idx % ld, b = w.row0 + r;
    const float y0 = (d < DH && b < p.B && p.s0) ? p.s0[static_cast<int64_t>(b) * H + w.head * DH + d] : 0.f;
    vec[0][idx] = from_float<T>(y0);
    vec[1][idx] = from_float<T>(0.f);
  }
  w.load_R(rs);

  const int j = w.unit();
  const int64_t unit_off = w.head * DH + j;
  float c[MT][2][2], n[MT][2][2], m[MT][2][2], y[MT][2][2], bias[4][2];
  for (int g = 0; g < 4; ++g)
    for (int e = 0; e < 2; ++e) bias[g][e] = p.bias[(w.head * 4 + g) * DH + j + e];
  for (int mt = 0; mt < MT; ++mt)
    for (int half = 0; half < 2; ++half)
      for (int e = 0; e < 2; ++e) {
        const bool has = p.s0 && w.owns(mt, half);
        const int64_t at = w.batch(mt, half) * H + unit_off + e;
        y[mt][half][e] = has ? p.s0[at] : 0.f;
        c[mt][half][e] = has ? p.s0[BH + at] : 0.f;
        n[mt][half][e] = has ? p.s0[2 * BH + at] : 0.f;
        m[mt][half][e] = has ? p.s0[3 * BH + at] : 0.f;
      }
  const T* wx = static_cast<const T*>(p.wx) + w.head * p.wx_sh + j;
  const auto prefetch = [&](int t) {
    if (t < p.S)
      for (int mt = 0; mt < MT; ++mt)
        for (int half = 0; half < 2; ++half)
          if (w.owns(mt, half))
            for (int g = 0; g < 4; ++g)
              cp_async_small(ring.at(t, (mt * 2 + half) * 4 + g),
                             wx + w.batch(mt, half) * p.wx_sb + t * p.wx_st + g * p.wx_sg, true);
    ring.commit();
  };
  for (int t = 0; t < kDepth - 1; ++t) prefetch(t);
  step_barrier(p.cluster);  // buffers ready and every CTA of the cluster running before DSMEM stores

  for (int t = 0; t < p.S; ++t) {
    const int cur = t & 1;
    prefetch(t + kDepth - 1);
    w.product(vec[cur], rs);
    w.reduce(red);
    ring.wait_oldest();
    for (int mt = 0; mt < MT; ++mt)
      for (int half = 0; half < 2; ++half) {
        if (!w.owns(mt, half)) continue;
        for (int e = 0; e < 2; ++e) {
          float g[4];
          for (int k = 0; k < 4; ++k) {
            const float2 x = unpack(*ring.at(t, (mt * 2 + half) * 4 + k));
            g[k] = w.acc[mt][k][2 * half + e] + (e ? x.y : x.x) + bias[k][e];
            w.acc[mt][k][2 * half + e] = g[k];  // the pre-activations, for the cache
          }
          y[mt][half][e] = slstm_step_unit<kFast>({g[0], g[1], g[2], g[3]}, c[mt][half][e], n[mt][half][e], m[mt][half][e]);
        }
        w.broadcast(vec[cur ^ 1], w.row(mt, half), j, pack<T>(y[mt][half][0], y[mt][half][1]));
      }
    // Off the serial chain: y_t and the backward's caches.
    for (int mt = 0; mt < MT; ++mt)
      for (int half = 0; half < 2; ++half) {
        if (!w.owns(mt, half)) continue;
        const int64_t bt = (w.batch(mt, half) * p.S + t) * p.NH + w.head;
        store_pair(static_cast<T*>(p.y) + bt * DH + j, pack<T>(y[mt][half][0], y[mt][half][1]));
        if (p.gates) {
          for (int g = 0; g < 4; ++g)
            store_f2(p.gates + (bt * 4 + g) * DH + j, w.acc[mt][g][2 * half], w.acc[mt][g][2 * half + 1]);
          float* st = p.states + static_cast<int64_t>(t) * 3 * BH + w.batch(mt, half) * H + unit_off;
          store_f2(st, c[mt][half][0], c[mt][half][1]);
          store_f2(st + BH, n[mt][half][0], n[mt][half][1]);
          store_f2(st + 2 * BH, m[mt][half][0], m[mt][half][1]);
        }
      }
    step_barrier(p.cluster);
  }

  for (int mt = 0; mt < MT; ++mt)
    for (int half = 0; half < 2; ++half) {
      if (!w.owns(mt, half)) continue;
      float* last = p.state_last + w.batch(mt, half) * H + unit_off;
      store_f2(last, y[mt][half][0], y[mt][half][1]);
      store_f2(last + BH, c[mt][half][0], c[mt][half][1]);
      store_f2(last + 2 * BH, n[mt][half][0], n[mt][half][1]);
      store_f2(last + 3 * BH, m[mt][half][0], m[mt][half][1]);
    }
}

}  // namespace xlstm::kernels
