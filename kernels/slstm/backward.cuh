// The fused sLSTM backward: ONE persistent kernel runs the steps in reverse,
//   dy_t (given) + R dg_{t+1} -> pointwise derivative (pointwise.cuh) with the forward's cached gate
//   pre-activations and previous c, n, m -> dg_t and the carried dc, dn, dm,
// with the same cluster shape as the forward (warp_product.cuh): dg_t (4 gates) is the next step's MMA
// operand, broadcast through DSMEM and handed over as in the forward (StepSync), the inputs prefetched
// Depth steps ahead. dg_t is also stored (fp32) as the gradient of wx; dR and db are reductions of it over time
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
  // The two vector buffers (dg of the step after the current one, and the next one's), and the rings.
  T* const vec0 = reinterpret_cast<T*>(smem_raw);
  const int vec_elems = static_cast<int>(layout.vec / sizeof(T));
  using DyRing = StepRing<RawPair<T>, 2 * MT, kDepth>;
  const int threads = static_cast<int>(blockDim.x);
  DyRing dy_ring(reinterpret_cast<RawPair<T>*>(smem_raw + 2 * layout.vec), threads);
  StepRing<float2, 2 * MT * kBwPerRow, kDepth> gs_ring(
      reinterpret_cast<float2*>(smem_raw + 2 * layout.vec + (DyRing::bytes(threads) + 15) / 16 * 16), threads);
  float* red = reinterpret_cast<float*>(smem_raw + 2 * layout.vec + layout.ring);
  float* rs = red + layout.red / sizeof(float);
  const StepSync sync = w.step_sync(smem_raw + layout.bars_offset(), 4);
  sync.init(static_cast<int>(blockDim.x) / 32);

  for (int idx = threadIdx.x; idx < 2 * vec_elems; idx += blockDim.x) vec0[idx] = from_float<T>(0.f);
  w.load_R(rs);

  const int j = w.unit();
  const int64_t unit_off = w.head * DH + j;
  // Gradients of the state after the current step (c, n, m), and of y from the final state.
  float dc[MT][2][2], dn[MT][2][2], dm[MT][2][2], dy_last[MT][2][2];
  // Per owned (m-tile, half): the next step to prefetch (dy, gate pre-activations, c, n, m before it)
  // and where the current step's gate gradients go; each moved back by one step at a time.
  bool own[MT][2];
  const T* dy_at[MT][2] = {};
  const float *gates_at[MT][2] = {}, *prev_at[MT][2] = {};
  float* dgates_at[MT][2] = {};
  const int64_t dy_step = static_cast<int64_t>(p.NH) * DH, gates_step = 4 * dy_step, states_step = 3 * BH;
  for (int mt = 0; mt < MT; ++mt)
    for (int half = 0; half < 2; ++half) {
      const bool owns = own[mt][half] = w.owns(mt, half);
      const int64_t b = w.batch(mt, half), at = b * H + unit_off;
      load_states(owns ? p.dstate_last : nullptr, at, BH, dy_last[mt][half], dc[mt][half], dn[mt][half], dm[mt][half]);
      if (!owns) continue;
      const int64_t bt = (b * p.S + p.S - 1) * p.NH + w.head;  // (b, t = S - 1, head)
      dy_at[mt][half] = static_cast<const T*>(p.dy) + bt * DH + j;
      gates_at[mt][half] = p.gates + bt * 4 * DH + j;
      dgates_at[mt][half] = p.dgates + bt * 4 * DH + j;
      prev_at[mt][half] = p.states + (p.S - 2) * states_step + at;  // c, n, m after step S - 2
    }
  // Step t's inputs: dy_t, the gate pre-activations of t, and c, n, m before t (s0 or zeros at t = 0);
  // called for t = S - 1, S - 2, ... in order.
  const auto prefetch = [&](int t) {
    if (t >= 0)
      for (int mt = 0; mt < MT; ++mt)
        for (int half = 0; half < 2; ++half) {
          if (!own[mt][half]) continue;
          const int k0 = (mt * 2 + half) * kBwPerRow;
          cp_async_small(dy_ring.at(t, mt * 2 + half), dy_at[mt][half], true);
          for (int g = 0; g < 4; ++g) cp_async_small(gs_ring.at(t, k0 + g), gates_at[mt][half] + g * DH, true);
          const float* prev = t > 0 ? prev_at[mt][half] : p.s0 ? p.s0 + BH + w.batch(mt, half) * H + unit_off : nullptr;
          for (int k = 0; k < 3; ++k)
            cp_async_small(gs_ring.at(t, k0 + 4 + k), prev ? prev + k * BH : p.gates, prev != nullptr);
          dy_at[mt][half] -= dy_step;
          gates_at[mt][half] -= gates_step;
          prev_at[mt][half] -= states_step;
        }
    DyRing::commit();
  };
  for (int k = 0; k < kDepth; ++k) prefetch(p.S - 1 - k);
  step_barrier(p.cluster);

  for (int t = p.S - 1; t >= 0; --t) {
    const int i = p.S - 1 - t, cur = i & 1;  // iteration i
    if (i > 0) {
      sync.wait(i);
      w.product(vec0 + (cur ? vec_elems : 0), rs);  // R dg_{t+1}: the gradient y_t receives through the recurrence
      w.reduce(red);
    }
    DyRing::wait_oldest();
    T* const next = vec0 + (cur ? 0 : vec_elems);
    float dg[MT][2][4][2];
    for (int mt = 0; mt < MT; ++mt)
      for (int half = 0; half < 2; ++half) {
        if (!own[mt][half]) continue;
        const int k0 = (mt * 2 + half) * kBwPerRow;
        const float2 dyv = unpack(*dy_ring.at(t, mt * 2 + half));
        for (int e = 0; e < 2; ++e) {
          const auto pick = [&](int k) {
            const float2 v = *gs_ring.at(t, k0 + k);
            return e ? v.y : v.x;
          };
          const float rec = t < p.S - 1 ? w.acc[mt][0][2 * half + e] : dy_last[mt][half][e];
          const SlstmGates d = slstm_step_unit_backward<kFast>({pick(0), pick(1), pick(2), pick(3)}, pick(4), pick(5),
                                                               pick(6), (e ? dyv.y : dyv.x) + rec, dc[mt][half][e],
                                                               dn[mt][half][e], dm[mt][half][e]);
          dg[mt][half][0][e] = d.i;
          dg[mt][half][1][e] = d.f;
          dg[mt][half][2][e] = d.z;
          dg[mt][half][3][e] = d.o;
        }
        RawPair<T> v[4];
        for (int g = 0; g < 4; ++g) v[g] = pack<T>(dg[mt][half][g][0], dg[mt][half][g][1]);
        w.broadcast(next + w.row(mt, half) * ld + j, DH, v, sync, cur ^ 1);
      }
    sync.arrive(i);
    // Off the serial chain: the gate gradients (= dwx), the next prefetch.
    for (int mt = 0; mt < MT; ++mt)
      for (int half = 0; half < 2; ++half) {
        if (!own[mt][half]) continue;
        for (int g = 0; g < 4; ++g) store_f2(dgates_at[mt][half] + g * DH, dg[mt][half][g][0], dg[mt][half][g][1]);
        dgates_at[mt][half] -= gates_step;
      }
    prefetch(t - kDepth);
  }

  // The gradient of y_0 = R dg_0, then the initial state's gradient.
  sync.wait(p.S);
  w.product(vec0 + ((p.S & 1) ? vec_elems : 0), rs);
  w.reduce(red);
  if (p.ds0)
    for (int mt = 0; mt < MT; ++mt)
      for (int half = 0; half < 2; ++half) {
        if (!own[mt][half]) continue;
        const float dy0[2] = {w.acc[mt][0][2 * half], w.acc[mt][0][2 * half + 1]};
        store_states(p.ds0, w.batch(mt, half) * H + unit_off, BH, dy0, dc[mt][half], dn[mt][half], dm[mt][half]);
      }
  sync.finish(p.S);
}

}  // namespace xlstm::kernels
