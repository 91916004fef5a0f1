// The chunkwise mLSTM backward's walk of the state gradient on wgmma, for bf16 inputs with DQK of 128 or
// 256 and L of 64 or 128 on sm_90a (kernels.md §1.3 step 2): recurrent.cuh's backward walk, over the
// whole of DQK per (64 columns of DHV, head) (grid DHV/64 * B*NH, two warpgroups, one block per SM), the
// DQK x 64 tile of dC in fp32 registers as fused_forward.cuh keeps C. In reverse over the chunks, before
// chunk k it stores dC_k (the gradient of the state leaving chunk k, from the registers) and adds, in fp64,
//   D_k = exp(g_k + m_{k-1} - m_k) <dC_k, C_{k-1}>
// to the chunk's sum (one atomic per warp; gates.cu turns it into forget-gate gradients), then
//   dC_{k-1} = exp(g_k + m_{k-1} - m_k) dC_k + Q_k^T diag(u s / den) dH_k
// one 64-row slice of the chunk per step (wgmma.cuh's StateUpdate: A = the weighted Q^T fragments from
// registers, B = dH from shared memory). It ends with dC0 and <dC0, C0>. With the same tiles it adds each
// row's inter-chunk part of dh . (h den),
//   xdot_i = q_i . (C_{k-1} dh_i) = sum over the block's columns c of (Q_k C_{k-1})_ic dh_ic
// (fp64, one atomic per row and warpgroup: warpgroup g multiplies its half of DQK), which the scores
// kernel needs; so the backward runs this walk first and chunk_gemm's xdot pass (a read of every chunk
// state) is not needed. The normaliser's gradient dn (1/DHV of the products) walks in norm_walk.cuh after
// the scores kernel (it needs a), and adds the dn parts of the sums.
//
// Why this shape: recurrent.cuh's walk (blocks of 64 state rows, mma.sync) read every Q / dH slice once
// per 64 rows of DQK and ran at 16% of the tensor pipe; here a slice is read once per 64 columns, and the
// products are issued asynchronously while the next slices' copies go out. A step is one barrier: its
// copies (the slice's Q tiles and dH tile, at a chunk's first slice also C_{k-1}'s tiles) were issued two
// steps before into a 3-stage ring; C_{k-1} has three buffers by chunk (at L = 64 its copies go out during
// the chunk two before, whose own is still read), the row weights a chunk start writes two by parity.
#pragma once

#include <cmath>

#include "mlstm/chunk_walk.cuh"
#include "mlstm/launch.h"
#include "mlstm/tile.cuh"
#include "mlstm/wgmma.cuh"

namespace xlstm::kernels {

constexpr int kDStateThreads = 256, kDStateStages = 3, kDStateMaxChunk = 128;

// Shared memory (from a 1024-byte boundary): per ring stage NQ tiles of Q and one of dH; three buffers of
// NQ tiles for C_{k-1}; the row weights by chunk parity. 218 KB at DQK 256.
template <class T>
constexpr size_t dstate_walk_smem_bytes(int NQ) {
  return wg::kAlign + (kDStateStages * (NQ + 1) + 3 * NQ) * wg::kElems * sizeof(T) + 2 * kDStateMaxChunk * sizeof(float);
}

template <class T, int NQ>
__global__ void __launch_bounds__(kDStateThreads, 1) dstate_walk_kernel(ChunkwiseParams p) {
  static_assert(NQ == 2 || NQ == 4, "DQK of 128 or 256");
  using Pair = PairOf<T>;
  constexpr int E = wg::kElems, MT = NQ / 2, StageTiles = NQ + 1;
  extern __shared__ __align__(128) unsigned char smem_raw[];
  const unsigned misalign = static_cast<unsigned>(__cvta_generic_to_shared(smem_raw)) % wg::kAlign;
  T* ring = reinterpret_cast<T*>(smem_raw + (misalign ? wg::kAlign - misalign : 0));
  T* cbuf = ring + kDStateStages * StageTiles * E;                   // C_{k-1}: [chunk % 3][NQ tiles]
  float* weights = reinterpret_cast<float*>(cbuf + 3 * NQ * E);      // [parity][row]
  const uint64_t sdesc = wg::desc(ring);
  const int cbuf_at = static_cast<int>(cbuf - ring);

  // (the warpgroup's index through a shuffle, as in fused_forward.cuh)
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32, wq = warp % 4;
  const int wgp = __shfl_sync(0xffffffffu, warp / 4, 0);
  const int tv_count = p.DHV / kTile, tv = blockIdx.x % tv_count, bh = blockIdx.x / tv_count;
  const int LT = p.L / kTile, NC = p.NC;
  const int64_t Sp = static_cast<int64_t>(NC) * p.L;
  const T* Q = head_ptr<T>(p.q.ptr, p.q.sb, p.q.sh, bh, p.NH);
  const T* dH = head_ptr<T>(p.dh.ptr, p.dh.sb, p.dh.sh, bh, p.NH) + tv * kTile;
  const int64_t state_size = static_cast<int64_t>(p.DQK) * p.DHV;
  const T* states = static_cast<const T*>(p.states) + bh * NC * state_size + tv * kTile;
  T* dstates = static_cast<T*>(p.dstates) + bh * NC * state_size + tv * kTile;
  double* xdot = p.xdot + bh * Sp;

  // The accumulators (wgmma.cuh's layout): acc[mt][i] is state row (wgp * MT + mt) * 64 + 16 wq + lane / 4 +
  // 8 (i % 4 / 2), column 8 (i / 4) + 2 (lane % 4) + i % 2; f(mt, i, row, column) for each even i, whose
  // pair (i, i + 1) are adjacent columns.
  wg::Acc acc[MT];
  const auto pair_foreach = [&](auto&& f) {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int i = 0; i < 32; i += 2)
        f(mt, i, (wgp * MT + mt) * kTile + 16 * wq + lane / 4 + 8 * (i % 4 / 2), 8 * (i / 4) + 2 * (lane % 4));
  };
  const int64_t cbase = bh * state_size + tv * kTile;
  pair_foreach([&](int mt, int i, int r, int c) {
    const float* init = p.dc_last ? p.dc_last + cbase + static_cast<int64_t>(r) * p.DHV + c : nullptr;
    acc[mt][i] = init ? init[0] : 0.f;
    acc[mt][i + 1] = init ? init[1] : 0.f;
  });

  // The copies of step (chunk kc, slice st) into ring stage buf.
  const auto issue = [&](int kc, int st, int buf) {
    T* dst = ring + buf * StageTiles * E;
    const int64_t t0 = static_cast<int64_t>(kc) * p.L + st * kTile;
    const int valid = static_cast<int>(p.S - t0);
#pragma unroll
    for (int d = 0; d < NQ; ++d)
      wg::load_tile_async<T, kDStateThreads>(dst + d * E, Q + t0 * p.q.ss + d * kTile, p.q.ss, valid);
    wg::load_tile_async<T, kDStateThreads>(dst + NQ * E, dH + t0 * p.dh.ss, p.dh.ss, valid);
    if (st == 0) {
#pragma unroll
      for (int d = 0; d < NQ; ++d)
        wg::load_tile_async<T, kDStateThreads>(cbuf + ((kc % 3) * NQ + d) * E,
                                               states + kc * state_size + d * kTile * p.DHV, p.DHV, kTile);
    }
  };
  StepCopies<kDStateStages, -1, decltype(issue)> copies(issue, NC * LT, LT, NC - 1);
  copies.next(0);
  copies.next(1);
  const ChunkInputs inputs(p, bh);
  ChunkInputs::Values ahead = inputs.read(NC - 1, tid);
  float decay = 1.f;  // of the current chunk
  for (int n = 0, kc = NC - 1, st = 0; n < NC * LT; ++n) {
    float* w = weights + (kc & 1) * kDStateMaxChunk;
    if (st == 0) {  // the chunk start, before the barrier: the row weights for the others, dC_k out
      const ChunkInputs::Values a = ahead;
      if (kc > 0) ahead = inputs.read(kc - 1, tid);
      if (tid < p.L) {
        const bool valid = static_cast<int64_t>(kc) * p.L + tid < p.S;
        const float u = expf(static_cast<float>(a.m_prev - fmax(a.m_prev, a.cm)));
        w[tid] = valid ? u * p.scale / (fabsf(a.nout) + p.eps) : 0.f;
      }
      T* out = dstates + kc * state_size;
      pair_foreach([&](int mt, int i, int r, int c) {
        *reinterpret_cast<typename Pair::type*>(out + static_cast<int64_t>(r) * p.DHV + c) =
            Pair::make(acc[mt][i], acc[mt][i + 1]);
      });
      decay = expf(static_cast<float>(a.g + a.m_prev - a.m_k));
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int i = 0; i < 32; ++i) acc[mt][i] *= decay;
    }
    cp_async_wait<kDStateStages - 2>();  // this step's copies
    wg::fence_async_shared();            // they are read by wgmma
    __syncthreads();
    const int cur_at = (n % kDStateStages) * StageTiles * E, c_at = cbuf_at + (kc % 3) * NQ * E;
    const T* cur = ring + cur_at;
    if (st == 0) {  // D_k from the registers, which hold decay * dC_k now
      const T* cprev = ring + c_at;
      float d = 0.f;
      pair_foreach([&](int mt, int i, int r, int c) {
        const T* at = cprev + (r / kTile) * E + wg::offset(r % kTile, c);
        const float2 cv = Pair::split(*reinterpret_cast<const typename Pair::type*>(at));
        d += acc[mt][i] * cv.x + acc[mt][i + 1] * cv.y;
      });
      const double sum = warp_sum(static_cast<double>(d));
      if (lane == 0) atomicAdd(p.dchunk + static_cast<int64_t>(bh) * NC + kc, sum);
    }
    // The state update, and (Q C_{k-1}) over this warpgroup's half of DQK for xdot.
    wg::StateUpdate<T, MT> update;
    update.issue(acc, cur + wgp * MT * E, w + st * kTile, sdesc, cur_at + NQ * E);
    wg::Acc xacc;
#pragma unroll
    for (int i = 0; i < 32; ++i) xacc[i] = 0.f;
    wg::fence();
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
      wg::mma_ss_tile<T>(xacc, sdesc, cur_at + (wgp * MT + mt) * E, c_at + (wgp * MT + mt) * E);
    wg::commit();
    copies.next(n + 2);  // into the stage step n - 1 read
    wg::wait<0>();
    update.keep(acc);
#pragma unroll
    for (int i = 0; i < 32; ++i) wg::keep(xacc[i]);
    // Row r (16 wq + lane / 4 + 8 h) of the slice: the quad's 64 columns of (Q C_{k-1}) times dh.
    const T* dh_tile = cur + NQ * E;
    float xrow[2] = {0.f, 0.f};
#pragma unroll
    for (int i = 0; i < 32; i += 2) {
      const int r = 16 * wq + lane / 4 + 8 * (i % 4 / 2), c = 8 * (i / 4) + 2 * (lane % 4);
      const float2 dv = Pair::split(*reinterpret_cast<const typename Pair::type*>(dh_tile + wg::offset(r, c)));
      xrow[i % 4 / 2] += xacc[i] * dv.x + xacc[i + 1] * dv.y;
    }
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      xrow[h] += __shfl_xor_sync(0xffffffffu, xrow[h], 1);
      xrow[h] += __shfl_xor_sync(0xffffffffu, xrow[h], 2);
      const int64_t t = static_cast<int64_t>(kc) * p.L + st * kTile + 16 * wq + lane / 4 + 8 * h;
      if (lane % 4 == 0 && t < p.S) atomicAdd(xdot + t, static_cast<double>(xrow[h]));
    }
    if (++st == LT) {
      st = 0;
      --kc;
    }
  }
  cp_async_wait<0>();

  // dC0 and <dC0, C0> (a part of dm0; norm_walk.cuh adds <dn0, n0>)
  double d = 0.0;
  pair_foreach([&](int mt, int i, int r, int c) {
    const int64_t at = cbase + static_cast<int64_t>(r) * p.DHV + c;
    if (p.dc0) {
      p.dc0[at] = acc[mt][i];
      p.dc0[at + 1] = acc[mt][i + 1];
    }
    if (p.c0) d += static_cast<double>(acc[mt][i]) * p.c0[at] + static_cast<double>(acc[mt][i + 1]) * p.c0[at + 1];
  });
  if (p.c0) {
    d = warp_sum(d);
    if (lane == 0) atomicAdd(p.c0dot + bh, d);
  }
}

template <class T>
void launch_dstate_walk(const ChunkwiseParams& p, cudaStream_t stream) {
  constexpr int threads = kDStateThreads;
  if (p.DQK == 256) wg::launch_per_value_tile(dstate_walk_kernel<T, 4>, threads, dstate_walk_smem_bytes<T>(4), p, stream);
  else wg::launch_per_value_tile(dstate_walk_kernel<T, 2>, threads, dstate_walk_smem_bytes<T>(2), p, stream);
}

}  // namespace xlstm::kernels
