// The fused sLSTM forward (kernels.md §3, §5.2): ONE persistent kernel runs all S steps,
//   g_t = wx_t + R^T y_{t-1} + b (4 gates per unit), pointwise -> y_t, c_t, n_t, m_t (states fp32).
// Per step: the recurrent product on the register-resident R (warp_product.cuh), the pointwise update
// in the threads that own the (row, unit) pairs, y_t written as the next step's MMA operand straight
// into the shared memory of every CTA of the cluster (DSMEM, double-buffered, counted on the receiving
// CTA's mbarrier: StepSync in cluster.cuh). No cluster-wide barrier, grid-wide sync or global round
// trip sits on the serial chain; wx is prefetched Depth steps ahead, y and the backward's caches (gate
// pre-activations, c, n, m) are stored off the chain through per-thread pointers advanced a step at a time.
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
  // The two vector buffers (y of the step before the current one, and the next one's), and the ring.
  T* const vec0 = reinterpret_cast<T*>(smem_raw);
  const int vec_elems = static_cast<int>(layout.vec / sizeof(T));
  StepRing<RawPair<T>, 8 * MT, kDepth> ring(reinterpret_cast<RawPair<T>*>(smem_raw + 2 * layout.vec),
                                            static_cast<int>(blockDim.x));
  float* red = reinterpret_cast<float*>(smem_raw + 2 * layout.vec + layout.ring);
  float* rs = red + layout.red / sizeof(float);
  const StepSync sync = w.step_sync(smem_raw + layout.bars_offset(), 1);
  sync.init(static_cast<int>(blockDim.x) / 32);

  // Buffer 0 = y_0 of the whole tile, buffer 1 = zeros (rows past B stay zero in both).
  for (int idx = threadIdx.x; idx < 16 * MT * ld; idx += blockDim.x) {
    const int r = idx / ld, d = idx % ld, b = w.row0 + r;
    const float y0 = (d < DH && b < p.B && p.s0) ? p.s0[static_cast<int64_t>(b) * H + w.head * DH + d] : 0.f;
    vec0[idx] = from_float<T>(y0);
    vec0[vec_elems + idx] = from_float<T>(0.f);
  }
  w.load_R(rs);

  const int j = w.unit();
  const int64_t unit_off = w.head * DH + j;
  float c[MT][2][2], n[MT][2][2], m[MT][2][2], y[MT][2][2], bias[4][2];
  for (int g = 0; g < 4; ++g)
    for (int e = 0; e < 2; ++e) bias[g][e] = p.bias[(w.head * 4 + g) * DH + j + e];
  // Per owned (m-tile, half): the next wx step to prefetch, and where the current step's y, gate
  // pre-activations and c, n, m go; each advanced by one step at a time (no index arithmetic per step).
  bool own[MT][2];
  const T* wx_at[MT][2] = {};
  T* y_at[MT][2] = {};
  float *gates_at[MT][2] = {}, *states_at[MT][2] = {};
  for (int mt = 0; mt < MT; ++mt)
    for (int half = 0; half < 2; ++half) {
      const bool owns = own[mt][half] = w.owns(mt, half);
      const int64_t b = w.batch(mt, half), at = b * H + unit_off;
      load_states(owns ? p.s0 : nullptr, at, BH, y[mt][half], c[mt][half], n[mt][half], m[mt][half]);
      if (!owns) continue;
      const int64_t bt = b * p.S * p.NH + w.head;  // (b, t = 0, head)
      wx_at[mt][half] = static_cast<const T*>(p.wx) + b * p.wx_sb + w.head * p.wx_sh + j;
      y_at[mt][half] = static_cast<T*>(p.y) + bt * DH + j;
      if (p.gates) {
        gates_at[mt][half] = p.gates + bt * 4 * DH + j;
        states_at[mt][half] = p.states + at;
      }
    }
  const int64_t y_step = static_cast<int64_t>(p.NH) * DH, gates_step = 4 * y_step, states_step = 3 * BH;
  // Step t's wx into the ring; called for t = 0, 1, 2, ... in order.
  const auto prefetch = [&](int t) {
    if (t < p.S)
      for (int mt = 0; mt < MT; ++mt)
        for (int half = 0; half < 2; ++half)
          if (own[mt][half]) {
            for (int g = 0; g < 4; ++g)
              cp_async_small(ring.at(t, (mt * 2 + half) * 4 + g), wx_at[mt][half] + g * p.wx_sg, true);
            wx_at[mt][half] += p.wx_st;
          }
    ring.commit();
  };
  for (int t = 0; t < kDepth; ++t) prefetch(t);
  step_barrier(p.cluster);  // buffers ready and every CTA of the cluster running before DSMEM stores

  for (int t = 0; t < p.S; ++t) {
    const int cur = t & 1;
    if (t > 0) sync.wait(t);
    w.product(vec0 + (cur ? vec_elems : 0), rs);
    w.reduce(red);
    ring.wait_oldest();
    T* const next = vec0 + (cur ? 0 : vec_elems);
    for (int mt = 0; mt < MT; ++mt)
      for (int half = 0; half < 2; ++half) {
        if (!own[mt][half]) continue;
        for (int e = 0; e < 2; ++e) {
          float g[4];
          for (int k = 0; k < 4; ++k) {
            const float2 x = unpack(*ring.at(t, (mt * 2 + half) * 4 + k));
            g[k] = w.acc[mt][k][2 * half + e] + (e ? x.y : x.x) + bias[k][e];
            w.acc[mt][k][2 * half + e] = g[k];  // the pre-activations, for the cache
          }
          y[mt][half][e] = slstm_step_unit<kFast>({g[0], g[1], g[2], g[3]}, c[mt][half][e], n[mt][half][e], m[mt][half][e]);
        }
        const RawPair<T> yv[1] = {pack<T>(y[mt][half][0], y[mt][half][1])};
        w.broadcast(next + w.row(mt, half) * ld + j, 0, yv, sync, cur ^ 1);
      }
    sync.arrive(t);
    // Off the serial chain: y_t, the backward's caches, the next prefetch.
    for (int mt = 0; mt < MT; ++mt)
      for (int half = 0; half < 2; ++half) {
        if (!own[mt][half]) continue;
        store_pair(y_at[mt][half], pack<T>(y[mt][half][0], y[mt][half][1]));
        y_at[mt][half] += y_step;
        if (p.gates) {
          for (int g = 0; g < 4; ++g)
            store_f2(gates_at[mt][half] + g * DH, w.acc[mt][g][2 * half], w.acc[mt][g][2 * half + 1]);
          float* st = states_at[mt][half];
          store_f2(st, c[mt][half][0], c[mt][half][1]);
          store_f2(st + BH, n[mt][half][0], n[mt][half][1]);
          store_f2(st + 2 * BH, m[mt][half][0], m[mt][half][1]);
          gates_at[mt][half] += gates_step;
          states_at[mt][half] += states_step;
        }
      }
    prefetch(t + kDepth);
  }
  sync.finish(p.S);

  for (int mt = 0; mt < MT; ++mt)
    for (int half = 0; half < 2; ++half) {
      if (!own[mt][half]) continue;
      store_states(p.state_last, w.batch(mt, half) * H + unit_off, BH, y[mt][half], c[mt][half], n[mt][half],
                   m[mt][half]);
    }
}

}  // namespace xlstm::kernels
