// The chunkwise mLSTM forward's state walk and output in one kernel, for bf16 inputs with DQK of 128 or
// 256 and L of 64 or 128 on sm_90a: one walk over the chunks per (64 columns of DHV, head) (grid
// DHV/64 * B*NH, two warpgroups, one block per SM), keeping the whole DQK x 64 tile of the state in fp32
// registers. Per chunk k
//   C_k = exp(g_k + m_{k-1} - m_k) C_{k-1} + K_k^T diag(w) V_k,  w_j = exp(g_k + ib_j - m_k)
//   H_k = [u s Q_k C_{k-1} + P_k V_k] / den,  u_i = exp(m_{k-1} - M_i), s = 1/sqrt(DQK)
// (recurrent.cuh's walk over the whole of DQK, then chunk_gemm.cuh's h) with the separate kernels'
// roundings: K^T diag(w) rounded per element to bf16 as their walk does, C_{k-1} rounded to bf16 in shared
// memory as they pass it through global memory. So the chunk states never reach global memory (at the
// 7B layout 1.07 GB written by the walk and read again by h) unless the op keeps them for the backward,
// and Q, K, V are read from DRAM once per head (the blocks of a head run side by side). P and den come
// from the scores kernel, n_{k-1} and m_k from norm_walk.cuh, which run before.
//
// The products are wgmma (wgmma.cuh): warpgroup g owns state rows g * DQK/2 .. (m64 tiles, A =
// the weighted K^T fragments from registers, B = V) and output slice g (A = Q or P, B = C_{k-1} or V,
// all from shared memory). The walk is one loop over steps, LT + DQK/128 + 1 per chunk (L = 64 LT), with
// a 3-stage cp.async ring of 4 tiles (the next two steps' copies in flight) and one barrier per step:
//   C_j  K[slice j, all of DQK] (ring) and V[slice j] (kept for the chunk) -> the state update
//   Q_h  Q[every slice, DQK tiles 2h, 2h+1] (ring) -> H = Q C_{k-1} (the tile staged at the chunk start),
//        after the last one times u s
//   P    P[slice s, key slices 0..s] for every s (ring) -> H += P V, / den, staged; stored after the next
//        barrier
// A step issues its wgmma, then the copies for step n + 2 (into the buffer step n - 1 read) and the
// previous stores, then waits. What a chunk start writes for the others before its barrier (C_{k-1},
// the row scalars) is read last at least one barrier earlier, except the row scalars of the P step just
// before it: those have two copies by chunk parity, as has the chunk's V (its next chunk's copies start
// two steps before the chunk ends).
#pragma once

#include <cmath>

#include "mlstm/chunk_walk.cuh"
#include "mlstm/launch.h"
#include "mlstm/tile.cuh"
#include "mlstm/wgmma.cuh"

namespace xlstm::kernels {

constexpr int kFusedThreads = 256, kFusedStages = 3, kFusedMaxChunk = 128, kFusedRingTiles = 4;

// Shared memory (tiles of wgmma.cuh's layout, from a 1024-byte boundary): the ring (4 tiles per stage),
// V by chunk parity, C_{k-1}, the output staging (one tile per warpgroup) and the row scalars (w, u s,
// 1/den) by chunk parity: 183 KB at DQK 256, so one block per SM.
template <class T>
constexpr size_t fused_forward_smem_bytes(int NQ) {
  constexpr int MaxLT = kFusedMaxChunk / kTile;
  return wg::kAlign + (kFusedStages * kFusedRingTiles + 2 * MaxLT + NQ + MaxLT) * wg::kElems * sizeof(T) +
         2 * 3 * kFusedMaxChunk * sizeof(float);
}

template <class T, int NQ>
__global__ void __launch_bounds__(kFusedThreads, 1) fused_forward_kernel(ChunkwiseParams p) {
  static_assert(NQ == 2 || NQ == 4, "DQK of 128 or 256");
  constexpr int E = wg::kElems, MaxLT = kFusedMaxChunk / kTile;
  constexpr int MT = NQ / 2;  // the state's m64 tiles per warpgroup (rows (wgp * MT + mt) * 64 ..)
  constexpr int QS = NQ / 2, DH = NQ / QS;  // Q steps per chunk, DQK tiles per Q step
  static_assert(NQ <= kFusedRingTiles && MaxLT * DH <= kFusedRingTiles && MaxLT * (MaxLT + 1) / 2 <= kFusedRingTiles,
                "a step's tiles fit a ring stage");
  extern __shared__ __align__(128) unsigned char smem_raw[];
  const unsigned misalign = static_cast<unsigned>(__cvta_generic_to_shared(smem_raw)) % wg::kAlign;
  T* ring = reinterpret_cast<T*>(smem_raw + (misalign ? wg::kAlign - misalign : 0));
  T* vkeep = ring + kFusedStages * kFusedRingTiles * E;  // [parity][slice]
  T* cprev = vkeep + 2 * MaxLT * E;                      // C_{k-1}: NQ tiles of 64 rows
  T* hstage = cprev + NQ * E;                            // [slice]
  float* scalars = reinterpret_cast<float*>(hstage + MaxLT * E);  // [parity][w, u s, 1/den][kFusedMaxChunk]
  const uint64_t sdesc = wg::desc(ring);
  const int vkeep_at = static_cast<int>(vkeep - ring), cprev_at = static_cast<int>(cprev - ring);

  // (the warpgroup's index through a shuffle: the compiler then knows it is the same across the warp, and
  // the wgmma under `wgp < LT` are not serialised as if in a divergent branch)
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32, wq = warp % 4;
  const int wgp = __shfl_sync(0xffffffffu, warp / 4, 0);
  const int tv_count = p.DHV / kTile, tv = blockIdx.x % tv_count, bh = blockIdx.x / tv_count;
  const int LT = p.L / kTile, NC = p.NC, steps_per_chunk = LT + QS + 1;
  const T* Q = head_ptr<T>(p.q.ptr, p.q.sb, p.q.sh, bh, p.NH);
  const T* K = head_ptr<T>(p.k.ptr, p.k.sb, p.k.sh, bh, p.NH);
  const T* V = head_ptr<T>(p.v.ptr, p.v.sb, p.v.sh, bh, p.NH) + tv * kTile;
  T* H = head_ptr<T>(p.h.ptr, p.h.sb, p.h.sh, bh, p.NH) + tv * kTile;
  const T* P = static_cast<const T*>(p.pbuf) + static_cast<int64_t>(bh) * NC * p.L * p.L;
  const int64_t state_size = static_cast<int64_t>(p.DQK) * p.DHV;
  T* states = p.states ? static_cast<T*>(p.states) + bh * NC * state_size + tv * kTile : nullptr;

  // The state's accumulators (wgmma.cuh's layout): acc[mt][4 j + e] is row (wgp * MT + mt) * 64 + 16 wq +
  // lane / 4 + 8 (e / 2), column 8 j + 2 (lane % 4) + e % 2; the output's likewise, rows 16 wq + ... of
  // the warpgroup's slice.
  wg::Acc acc[MT], hacc;
  const int frag_row = 16 * wq + lane / 4, frag_col = 2 * (lane % 4);
  const auto state_foreach = [&](auto&& f) {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int i = 0; i < 32; ++i)
        f((wgp * MT + mt) * kTile + frag_row + 8 * (i % 4 / 2), 8 * (i / 4) + frag_col + i % 2, acc[mt][i]);
  };
  const auto out_foreach = [&](auto&& f) {
#pragma unroll
    for (int i = 0; i < 32; ++i) f(frag_row + 8 * (i % 4 / 2), 8 * (i / 4) + frag_col + i % 2, hacc[i]);
  };
  // Rounds pairs of adjacent columns to T into the tiles at s (row r in tile r / 64).
  const auto stage_pairs = [&](T* s, auto&& foreach_pair) {
    foreach_pair([&](int r, int c, float v0, float v1) {
      *reinterpret_cast<typename PairOf<T>::type*>(s + (r / kTile) * E + wg::offset(r % kTile, c)) = PairOf<T>::make(v0, v1);
    });
  };
  const int64_t cbase = bh * state_size + tv * kTile;
  state_foreach([&](int r, int c, float& v) { v = p.c0 ? p.c0[cbase + static_cast<int64_t>(r) * p.DHV + c] : 0.f; });

  // The copies of step st of chunk kc into ring stage buf.
  const auto issue = [&](int kc, int st, int buf) {
    T* dst = ring + buf * kFusedRingTiles * E;
    const int64_t c0 = static_cast<int64_t>(kc) * p.L;
    if (st < LT) {  // C_st: K (all of DQK) and V of slice st
      const int64_t t0 = c0 + st * kTile;
      const int valid = static_cast<int>(p.S - t0);
#pragma unroll
      for (int d = 0; d < NQ; ++d)
        wg::load_tile_async<T, kFusedThreads>(dst + d * E, K + t0 * p.k.ss + d * kTile, p.k.ss, valid);
      wg::load_tile_async<T, kFusedThreads>(vkeep + ((kc & 1) * MaxLT + st) * E, V + t0 * p.v.ss, p.v.ss, valid);
    } else if (st < LT + QS) {  // Q of every slice, DQK tiles (st - LT) * DH ..
      const int d0 = (st - LT) * DH;
      for (int s = 0; s < LT; ++s) {
        const int64_t t0 = c0 + s * kTile;
#pragma unroll
        for (int dd = 0; dd < DH; ++dd)
          wg::load_tile_async<T, kFusedThreads>(dst + (s * DH + dd) * E, Q + t0 * p.q.ss + (d0 + dd) * kTile, p.q.ss,
                                                static_cast<int>(p.S - t0));
      }
    } else {  // P of every slice s, key slices j <= s, at s (s + 1) / 2 + j
      for (int s = 0; s < LT; ++s) {
        const T* prow = P + (static_cast<int64_t>(kc) * p.L + s * kTile) * p.L;
        for (int j = 0; j <= s; ++j)
          wg::load_tile_async<T, kFusedThreads>(dst + (s * (s + 1) / 2 + j) * E, prow + j * kTile, p.L,
                                                static_cast<int>(p.S - c0 - s * kTile));
      }
    }
  };

  StepCopies<kFusedStages, 1, decltype(issue)> copies(issue, NC * steps_per_chunk, steps_per_chunk, 0);
  copies.next(0);
  copies.next(1);
  const ChunkInputs inputs(p, bh);
  ChunkInputs::Values ahead = inputs.read(0, tid);
  int64_t h_pending = -1;  // first position of the chunk whose output waits in hstage
  for (int n = 0, kc = 0, st = 0; n < NC * steps_per_chunk; ++n) {
    float* sc = scalars + (kc & 1) * 3 * kFusedMaxChunk;
    float *w = sc, *us = sc + kFusedMaxChunk, *inv_den = sc + 2 * kFusedMaxChunk;
    const int64_t c0 = static_cast<int64_t>(kc) * p.L;
    if (st == 0) {  // the chunk start, before the barrier: C_{k-1} and the row scalars for the others
      const ChunkInputs::Values a = ahead;
      if (kc + 1 < NC) ahead = inputs.read(kc + 1, tid);
      if (tid < p.L) {
        const bool valid = c0 + tid < p.S;
        w[tid] = valid ? expf(static_cast<float>(a.g + a.ib - a.m_k)) : 0.f;
        us[tid] = expf(static_cast<float>(a.m_prev - fmax(a.m_prev, a.cm))) * p.scale;
        inv_den[tid] = valid ? 1.f / (fabsf(a.nout) + p.eps) : 1.f;
      }
      stage_pairs(cprev, [&](auto&& put) {
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
          for (int i = 0; i < 32; i += 2)
            put((wgp * MT + mt) * kTile + frag_row + 8 * (i % 4 / 2), 8 * (i / 4) + frag_col, acc[mt][i],
                acc[mt][i + 1]);
      });
      const float decay = expf(static_cast<float>(a.g + a.m_prev - a.m_k));
      state_foreach([&](int, int, float& v) { v *= decay; });
    }
    cp_async_wait<kFusedStages - 2>();  // this step's copies
    wg::fence_async_shared();           // they and the staged tiles are read by wgmma
    __syncthreads();
    // The step's products are issued (asynchronous wgmma), then the copies of step n + 2 and the stores of
    // the previous output and of C_{k-1} go out while the tensor cores work, then the wait. (Each branch
    // waits for its own products: with one wait after the branches the compiler moved the accumulators
    // between registers at the join, and ptxas serialised every wgmma.)
    const auto overlapped = [&] {
      copies.next(n + 2);
      if (h_pending >= 0) {
        for (int s = 0; s < LT; ++s)
          wg::store_tile<T, kFusedThreads>(hstage + s * E, H + (h_pending + s * kTile) * p.h.ss, p.h.ss,
                                           static_cast<int>(p.S - h_pending - s * kTile));
        h_pending = -1;
      }
      if (st == 0 && states) {
#pragma unroll
        for (int d = 0; d < NQ; ++d)
          wg::store_tile<T, kFusedThreads>(cprev + d * E, states + kc * state_size + d * kTile * p.DHV, p.DHV, kTile);
      }
    };
    // (tiles as element offsets from ring, whose descriptor is sdesc; cur for ldmatrix)
    const int cur_at = (n % kFusedStages) * kFusedRingTiles * E, vk_at = vkeep_at + (kc & 1) * MaxLT * E;
    const T* cur = ring + cur_at;
    const int h = st - LT;  // Q step h (h < QS) or the P step (h == QS)
    if (st < LT) {  // the state update from slice st: A = (K^T diag(w)) from registers, B = V
      wg::StateUpdate<T, MT> update;
      update.issue(acc, cur + wgp * MT * E, w + st * kTile, sdesc, vk_at + st * E);
      overlapped();
      wg::wait<0>();
      update.keep(acc);
    } else if (wgp < LT && h < QS) {  // the output of slice wgp: inter-chunk part from DQK tiles h * DH ..
      if (h == 0) out_foreach([](int, int, float& v) { v = 0.f; });
      wg::fence();
#pragma unroll
      for (int dd = 0; dd < DH; ++dd)
        wg::mma_ss_tile<T>(hacc, sdesc, cur_at + (wgp * DH + dd) * E, cprev_at + (h * DH + dd) * E);
      wg::commit();
      overlapped();
      wg::wait<0>();
#pragma unroll
      for (int i = 0; i < 32; ++i) wg::keep(hacc[i]);
      if (h == QS - 1) out_foreach([&](int r, int, float& v) { v *= us[wgp * kTile + r]; });
    } else if (wgp < LT) {  // intra-chunk part, then / den, staged for the store after the next barrier
      wg::fence();
      for (int j = 0; j <= wgp; ++j)
#pragma unroll
        for (int ks = 0; ks < 4; ++ks)
          wg::mma_ss<0, 1>(hacc, wg::desc_k<true, T>(sdesc, cur_at + (wgp * (wgp + 1) / 2 + j) * E, 16 * ks),
                           wg::desc_k<false, T>(sdesc, vk_at + j * E, 16 * ks));
      wg::commit();
      overlapped();
      wg::wait<0>();
#pragma unroll
      for (int i = 0; i < 32; ++i) wg::keep(hacc[i]);
      const float* id = inv_den + wgp * kTile;
      stage_pairs(hstage + wgp * E, [&](auto&& put) {
#pragma unroll
        for (int i = 0; i < 32; i += 2) {
          const int r = frag_row + 8 * (i % 4 / 2);
          put(r, 8 * (i / 4) + frag_col, hacc[i] * id[r], hacc[i + 1] * id[r]);
        }
      });
    } else {
      overlapped();
    }
    if (st == LT + QS) h_pending = c0;  // (every thread: the store after the next barrier is the block's)
    if (++st == steps_per_chunk) {
      st = 0;
      ++kc;
    }
  }
  cp_async_wait<0>();
  __syncthreads();
  if (h_pending >= 0)
    for (int s = 0; s < LT; ++s)
      wg::store_tile<T, kFusedThreads>(hstage + s * E, H + (h_pending + s * kTile) * p.h.ss, p.h.ss,
                                       static_cast<int>(p.S - h_pending - s * kTile));
  if (p.c_last)
    state_foreach([&](int r, int c, float& v) { p.c_last[cbase + static_cast<int64_t>(r) * p.DHV + c] = v; });
}

template <class T>
void launch_fused_forward(const ChunkwiseParams& p, cudaStream_t stream) {
  constexpr int threads = kFusedThreads;
  if (p.DQK == 256) wg::launch_per_value_tile(fused_forward_kernel<T, 4>, threads, fused_forward_smem_bytes<T>(4), p, stream);
  else wg::launch_per_value_tile(fused_forward_kernel<T, 2>, threads, fused_forward_smem_bytes<T>(2), p, stream);
}

}  // namespace xlstm::kernels
