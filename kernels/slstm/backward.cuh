// The fused sLSTM backward: ONE persistent kernel runs the steps in reverse,
//   dy_t (given) + R dg_{t+1} -> pointwise derivative (pointwise.cuh) with the forward's cached gate
//   pre-activations and previous c, n, m -> dg_t and the carried dc, dn, dm,
// with the same cluster shape as the forward (warp_product.cuh): dg_t (4 gates) is the next step's MMA
// operand, broadcast through DSMEM, one cluster barrier per step, the inputs prefetched Depth steps
// ahead. dg_t is also stored (fp32) as the gradient of wx; dR and db are reductions of it over time
// that the op binding does after the loop. After step 0 one more product gives the gradient of y_0.
#pragma once

#include "slstm/pointwise.cuh"
#include "slstm/warp_product.cuh"

namespace xlstm::kernels {

template <class T, int KST, int KSPLIT, int MT>
__global__ void __launch_bounds__(kSlstmMaxThreads, 1) slstm_bw_kernel(SlstmParams p) {
  constexpr bool kFast = !std::is_same_v<T, float>;
  constexpr int kDepth = kSlstmRingDepth<T, true>;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  SlstmWarp<T, KST, KSPLIT, MT, true> w(p);
  const SlstmSmem layout = slstm_smem<T, MT, true>(p);
  const int DH = p.DH, H = p.NH * DH, ld = w.ld;
  const int64_t BH = static_cast<int64_t>(p.B) * H;
  T* vec[2] = {reinterpret_cast<T*>(smem_raw), reinterpret_cast<T*>(smem_raw + layout.vec)};
  using DyRing = StepRing<RawPair<T>, 2 * MT, kDepth>;
  const int threads = static_cast<int>(blockDim.x);
  DyRing dy_ring{reinterpret_cast<RawPair<T>*>(smem_raw + 2 * layout.vec), threads};
  StepRing<float2, 2 * MT * kBwPerRow, kDepth> gs_ring{
      reinterpret_cast<float2*>(smem_raw + 2 * layout.vec + (DyRing::bytes(threads) + 15) / 16 * 16), threads};
  float* red = reinterpret_cast<float*>(smem_raw + 2 * layout.vec + layout.ring);
  float* rs = red + layout.red / sizeof(float);

  for (int idx = threadIdx.x; idx < 2 * 16 * MT * ld; idx += blockDim.x) vec[0][idx] = from_float<T>(0.f);
  w.load_R(rs);

  const int j = w.unit();
  const int64_t unit_off = w.head * DH + j;
  // Gradients of the state after the current step (c, n, m), and of y from the final state.
  float dc[MT][2][2], dn[MT][2][2], dm[MT][2][2], dy_last[MT][2][2];
  for (int mt = 0; mt < MT; ++mt)
    for (int half = 0; half < 2; ++half)
      for (int e = 0; e < 2; ++e) {
        const bool has = p.dstate_last && w.owns(mt, half);
        const int64_t at = w.batch(mt, half) * H + unit_off + e;
        dy_last[mt][half][e] = has ? p.dstate_last[at] : 0.f;
        dc[mt][half][e] = has ? p.dstate_last[BH + at] : 0.f;
        dn[mt][half][e] = has ? p.dstate_last[2 * BH + at] : 0.f;
        dm[mt][half][e] = has ? p.dstate_last[3 * BH + at] : 0.f;
      }
  // Step t's inputs: dy_t, the gate pre-activations of t, and c, n, m before t (s0 or zeros at t = 0).
  const auto prefetch = [&](int t) {
    if (t >= 0)
      for (int mt = 0; mt < MT; ++mt)
        for (int half = 0; half < 2; ++half) {
          if (!w.owns(mt, half)) continue;
          const int k0 = (mt * 2 + half) * kBwPerRow;
          const int64_t bt = (w.batch(mt, half) * p.S + t) * p.NH + w.head;
          cp_async_small(dy_ring.at(t, mt * 2 + half), static_cast<const T*>(p.dy) + bt * DH + j, true);
          for (int g = 0; g < 4; ++g) cp_async_small(gs_ring.at(t, k0 + g), p.gates + (bt * 4 + g) * DH + j, true);
          const float* prev = t > 0 ? p.states + static_cast<int64_t>(t - 1) * 3 * BH : p.s0 ? p.s0 + BH : nullptr;
          for (int k = 0; k < 3; ++k) {
            const float* src = prev ? prev + k * BH + w.batch(mt, half) * H + unit_off : p.gates;
            cp_async_small(gs_ring.at(t, k0 + 4 + k), src, prev != nullptr);
          }
        }
    DyRing::commit();
  };
  for (int k = 0; k < kDepth - 1; ++k) prefetch(p.S - 1 - k);
  step_barrier(p.cluster);

  for (int t = p.S - 1; t >= 0; --t) {
    const int cur = (p.S - 1 - t) & 1;
    prefetch(t - (kDepth - 1));
    if (t < p.S - 1) {
      w.product(vec[cur], rs);  // R dg_{t+1}: the gradient y_t receives through the recurrence
      w.reduce(red);
    }
    DyRing::wait_oldest();
    for (int mt = 0; mt < MT; ++mt)
      for (int half = 0; half < 2; ++half) {
        if (!w.owns(mt, half)) continue;
        const int k0 = (mt * 2 + half) * kBwPerRow;
        const float2 dyv = unpack(*dy_ring.at(t, mt * 2 + half));
        float dg[4][2];
        for (int e = 0; e < 2; ++e) {
          const auto pick = [&](int k) {
            const float2 v = *gs_ring.at(t, k0 + k);
            return e ? v.y : v.x;
          };
          const float rec = t < p.S - 1 ? w.acc[mt][0][2 * half + e] : dy_last[mt][half][e];
          const SlstmGates d = slstm_step_unit_backward<kFast>({pick(0), pick(1), pick(2), pick(3)}, pick(4), pick(5),
                                                               pick(6), (e ? dyv.y : dyv.x) + rec, dc[mt][half][e],
                                                               dn[mt][half][e], dm[mt][half][e]);
          dg[0][e] = d.i;
          dg[1][e] = d.f;
          dg[2][e] = d.z;
          dg[3][e] = d.o;
        }
        for (int g = 0; g < 4; ++g) w.broadcast(vec[cur ^ 1], w.row(mt, half), g * DH + j, pack<T>(dg[g][0], dg[g][1]));
        const int64_t bt = (w.batch(mt, half) * p.S + t) * p.NH + w.head;
        for (int g = 0; g < 4; ++g) store_f2(p.dgates + (bt * 4 + g) * DH + j, dg[g][0], dg[g][1]);
      }
    step_barrier(p.cluster);
  }

  // The gradient of y_0 = R dg_0, then the initial state's gradient.
  w.product(vec[p.S & 1], rs);
  w.reduce(red);
  if (p.ds0)
    for (int mt = 0; mt < MT; ++mt)
      for (int half = 0; half < 2; ++half) {
        if (!w.owns(mt, half)) continue;
        float* ds0 = p.ds0 + w.batch(mt, half) * H + unit_off;
        store_f2(ds0, w.acc[mt][0][2 * half], w.acc[mt][0][2 * half + 1]);
        store_f2(ds0 + BH, dc[mt][half][0], dc[mt][half][1]);
        store_f2(ds0 + 2 * BH, dn[mt][half][0], dn[mt][half][1]);
        store_f2(ds0 + 3 * BH, dm[mt][half][0], dm[mt][half][1]);
      }
}

}  // namespace xlstm::kernels
