// The parallel products of the chunkwise mLSTM: one output tile per block (64x64 on 4 warps or 128x128
// on 8, see below; grid: column tiles * row blocks per chunk * NC chunks * B*NH), each the sum of an
// inter-chunk product over a head dimension (phase 1, then a per-row / per-column epilogue) and a
// block-causal intra-chunk product over the chunk's positions (phase 2):
//
//   h  (rows i, dv)  = [ u s Q C_{k-1} + P V ] / den                     phase 2 over key blocks <= i's
//   dq (rows i, dq)  = u s (dH C_{k-1}^T / den + a n_{k-1}^T) + dS K      phase 2 over key blocks <= i's
//   dk (rows j, dq)  = w (V dC_k^T + 1 dn_k^T) + dS^T Q                   phase 2 over query blocks >= j's
//   dv (rows j, dv)  = w K dC_k + P'^T dH                                 phase 2 over query blocks >= j's
//   xdot (rows i)    = q_i . (C_{k-1} dh_i), the inter-chunk part of dh_i . (h_i den_i): phase 1 of dq
//                      dotted with q (the scores kernel needs it before dq exists)
//
// with u_i = exp(m_{k-1} - M_i), s = 1/sqrt(DQK), den_i = |n_out_i| + eps, w_j = exp(g_k + ib_j - m_k)
// (see recurrent.cuh and scores.cuh for the states, P, P', dS and a). dq and dk blocks also add the
// phase-1 (inter-chunk) parts of their rows' q.dq and k.dk into the fp64 per-position sums the
// gate-gradient kernel reads (the intra-chunk parts come from the scores kernel).
#pragma once

#include <cmath>
#include <initializer_list>
#include <type_traits>

#include "mlstm/launch.h"
#include "mlstm/tile.cuh"

namespace xlstm::kernels {

// The tile of a launch: Tile128 (128 rows x 128 columns on 8 warps) for bf16 where the chunk length and
// the head dimensions of the output columns (for dq, dk, dv: DQK and DHV) are multiples of 128, which
// halves the reloads of the operands from L2 that bound the 64x64 tiles (kernels/NOTES.md); Tile64
// otherwise and for fp32.
// Both run a 2-stage pipeline: with 2 blocks of 8 warps per SM (128 registers), the same warps per SM
// as 4 blocks of Tile64.
template <class T, class Tl>
constexpr size_t chunk_gemm_smem_bytes() {
  return 2 * (Tl::ms + Tl::ns) * TileLayout<T>::elems * sizeof(T) + (5 * Tl::rows + Tl::cols) * sizeof(float) +
         (Tl::rows + 2) * sizeof(double);
}

// The product Kind of one output tile: tile (column tile tn + tn_count * row block) of chunk head_chunk
// (kc + NC * bh). Kind is a template parameter, so each product's code is compiled for it alone (the
// kernel with a runtime kind, which the one launch of dq, dk and dv needs per block, was 23% longer and
// ran its products 10-30% slower).
template <class T, class Tl, GemmKind Kind>
__device__ __forceinline__ void chunk_gemm_tile(const ChunkwiseParams& p, int tile, int head_chunk) {
  constexpr int E = TileLayout<T>::elems, BM = Tl::rows, BN = Tl::cols;
  static_assert(Tl::ms * Tl::ns <= Tl::ms + Tl::ns, "the output staging and the row-dot tile fit a stage buffer");
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* stage = reinterpret_cast<T*>(smem_raw);
  T* staging = stage;  // free once the last product is done (gemm_tiles ends with a barrier)
  float* rs0 = reinterpret_cast<float*>(stage + 2 * (Tl::ms + Tl::ns) * E);
  float* rs1 = rs0 + BM;
  float* rs2 = rs1 + BM;
  float* colv = rs2 + BM;
  double* raw_g = reinterpret_cast<double*>(colv + BN);  // BM rows, then m_{k-1} or m_k, then g_k
  float* raw_f = reinterpret_cast<float*>(raw_g + BM + 2);
  float* raw_a = raw_f + BM;

  const int tid = threadIdx.x;
  const int NC = p.NC;
  constexpr bool value_cols = Kind == GemmKind::h || Kind == GemmKind::dv;
  const int tn_count = (value_cols ? p.DHV : p.DQK) / BN;
  const int tn = tile % tn_count, rb = tile / tn_count;
  const int kc = head_chunk % NC;
  const int bh = head_chunk / NC;
  const int64_t c0 = static_cast<int64_t>(kc) * p.L, r0 = c0 + rb * BM;
  if (r0 >= p.S) return;
  const int rows = static_cast<int>(p.S - r0 < BM ? p.S - r0 : BM);
  const int chunk_rows = static_cast<int>(p.S - c0 < p.L ? p.S - c0 : p.L);
  const int kmax = (chunk_rows + kTile - 1) / kTile;  // 64-row blocks of this chunk holding positions
  const int64_t Sp = static_cast<int64_t>(NC) * p.L, seq = static_cast<int64_t>(bh) * p.S;
  const int64_t col0 = static_cast<int64_t>(tn) * BN;

  const T* Q = head_ptr<T>(p.q.ptr, p.q.sb, p.q.sh, bh, p.NH);
  const T* K = head_ptr<T>(p.k.ptr, p.k.sb, p.k.sh, bh, p.NH);
  const int64_t chunk_index = static_cast<int64_t>(bh) * NC + kc;
  const int64_t state_size = static_cast<int64_t>(p.DQK) * p.DHV;
  constexpr bool forward_state = Kind == GemmKind::h || Kind == GemmKind::dq || Kind == GemmKind::xdot;
  constexpr bool row_dots = Kind == GemmKind::xdot || Kind == GemmKind::dq || Kind == GemmKind::dk;  // see phase 1
  const T* St = static_cast<const T*>(forward_state ? p.states : p.dstates) + chunk_index * state_size;
  const float* nst = (forward_state ? p.n_states : p.dn_states) + chunk_index * p.DQK;
  const T* Pb = static_cast<const T*>(p.pbuf) + chunk_index * p.L * p.L;
  const T* DSb = Kind == GemmKind::h ? nullptr : static_cast<const T*>(p.dsbuf) + chunk_index * p.L * p.L;

  // The epilogue's row and column inputs (thread tid: row tid, column tid) are copied to shared memory
  // by cp.async with phase 1's first tiles, so that no warp waits for them before its first tile copies
  // and no registers hold them across the products; the scalars are computed from them after phase 1.
  static_assert(Tl::threads >= BM && Tl::threads >= BN, "one thread per row and column");
  const int64_t t_row = r0 + tid;
  const bool row_valid = tid < rows;
  {
    const double* cm = p.chunk_m + bh * static_cast<int64_t>(NC + 1) + kc;
    if (tid < BM) {
      if constexpr (forward_state) {
        cp_async_small<8>(raw_g + tid, p.gate_cm + bh * Sp + t_row, true);
        cp_async_small<4>(raw_f + tid, p.n_out + seq + t_row, row_valid);
        if constexpr (Kind == GemmKind::dq) cp_async_small<4>(raw_a + tid, p.a_buf + bh * Sp + t_row, true);
      } else {
        cp_async_small<8>(raw_g + tid, p.gate_ib + bh * Sp + t_row, row_valid);
      }
    }
    if (tid == 0) {
      cp_async_small<8>(raw_g + BM, forward_state ? cm : cm + 1, true);  // m_{k-1} or m_k
      if constexpr (!forward_state) cp_async_small<8>(raw_g + BM + 1, p.chunk_g + chunk_index, true);
    }
    if (tid < BN && (Kind == GemmKind::dq || Kind == GemmKind::dk))
      cp_async_small<4>(colv + tid, nst + col0 + tid, true);
  }
  // After phase 1 (gemm_tiles waits for its copies and ends with a barrier; the row-dot tile's, issued
  // after them, are waited for here).
  const auto write_scalars = [&] {
    if (tid < BM) {
      const double m = raw_g[BM];
      if constexpr (forward_state) {
        rs0[tid] = expf(static_cast<float>(m - fmax(m, raw_g[tid]))) * p.scale;  // u s
        rs1[tid] = row_valid ? fabsf(raw_f[tid]) + p.eps : 1.f;                // den
        rs2[tid] = raw_a[tid];
      } else {
        rs0[tid] = row_valid ? expf(static_cast<float>(raw_g[BM + 1] + raw_g[tid] - m)) : 0.f;  // w
      }
    }
    if constexpr (row_dots) cp_async_wait<0>();
    __syncthreads();
  };

  typename Tl::Acc acc;
  zero_acc<Tl>(acc);
  // Phase 1: the inter-chunk product with the state (or its gradient): rows of q (h), dh (dq, xdot),
  // v (dk) or k (dv) times the state read as (dq, dv) ("row" B: h, dv) or transposed ("col" B: dq, xdot, dk).
  const SeqTensor& in1 = Kind == GemmKind::h ? p.q : Kind == GemmKind::dk ? p.v : Kind == GemmKind::dv ? p.k : p.dh;
  const T* A1 = head_ptr<T>(in1.ptr, in1.sb, in1.sh, bh, p.NH) + r0 * in1.ss;
  // xdot, dq and dk dot their phase-1 rows with the same rows of q (xdot, dq) or k (dk): that tile is
  // copied into the stage buffer phase 1 leaves free, during its last slice (v1.14's scalar loads of it
  // after phase 1 held each warp for a global latency: the products' largest long-scoreboard stalls).
  const T* row_dot_tile = nullptr;
  const auto copy_row_dot_tile = [&](T* buf) {
    const T* in = Kind == GemmKind::dk ? K + r0 * p.k.ss + col0 : Q + r0 * p.q.ss + col0;
    load_block_tile_async<T, Tl>(buf, in, Kind == GemmKind::dk ? p.k.ss : p.q.ss, rows);
    cp_async_commit();
    row_dot_tile = buf;
  };
  if constexpr (!row_dots)
    gemm_tiles<T, false, true, Tl>(acc, TileSrc<T>{A1, in1.ss, kTile, rows, 0},
                                   TileSrc<T>{St + col0, p.DHV, kTile * p.DHV, p.DQK, kTile}, 0, p.DQK / kTile, stage);
  else
    gemm_tiles<T, false, false, Tl>(acc, TileSrc<T>{A1, in1.ss, kTile, rows, 0},
                                    TileSrc<T>{St + col0 * p.DHV, p.DHV, kTile, BN, 0}, 0, p.DHV / kTile, stage,
                                    EverySlice{}, copy_row_dot_tile);
  // Rows' dot products with q (xdot, dq) or k (dk), summed in fp64 per position (after the wait for
  // row_dot_tile's copies and a barrier).
  auto add_row_dots = [&](double* sum, double* sum2) {
    float part[Tl::MT][2];
    acc_row_dots_tile<Tl>(acc, row_dot_tile, part);
    if (tid % 4 == 0)
      for (int mt = 0; mt < Tl::MT; ++mt)
        for (int h = 0; h < 2; ++h) {
          const int r = acc_row<Tl>(mt, h);
          if (r >= rows) continue;
          atomicAdd(sum + bh * Sp + r0 + r, static_cast<double>(part[mt][h]));
          if (sum2) atomicAdd(sum2 + bh * Sp + r0 + r, static_cast<double>(part[mt][h]));
        }
  };
  if constexpr (Kind == GemmKind::xdot) {
    cp_async_wait<0>();
    __syncthreads();
    add_row_dots(p.xdot, nullptr);
    return;
  }
  write_scalars();
  acc_foreach<Tl>(acc, [&](int r, int c, float& v) {
    switch (Kind) {
      case GemmKind::h: v *= rs0[r]; break;
      case GemmKind::dq: v = rs0[r] * (v / rs1[r] + rs2[r] * colv[c]); break;
      case GemmKind::dk: v = rs0[r] * (v + colv[c]); break;
      case GemmKind::dv: v *= rs0[r]; break;
      default: break;  // xdot returned above
    }
  });
  if constexpr (Kind == GemmKind::dq) add_row_dots(p.rowdot, nullptr);  // q . dq (inter)
  if constexpr (Kind == GemmKind::dk) add_row_dots(p.kst, p.kdk);        // k . dk (state)
  if constexpr (row_dots) __syncthreads();  // (row_dot_tile read: phase 2 copies over it)
  // Phase 2: the intra-chunk product over the causal 64-key slices: P or dS rows (h, dq; key slices up
  // to the row block's last, clipped to the chunk's positions) or P'^T, dS^T rows (dv, dk; query slices
  // from the row block's first on) times v, k, dh or q rows.
  const SeqTensor& in2 = Kind == GemmKind::h ? p.v : Kind == GemmKind::dq ? p.k : Kind == GemmKind::dk ? p.q : p.dh;
  const T* S2 = Kind == GemmKind::h || Kind == GemmKind::dv ? Pb : DSb;
  const TileSrc<T> b2{head_ptr<T>(in2.ptr, in2.sb, in2.sh, bh, p.NH) + c0 * in2.ss + col0, in2.ss, kTile * in2.ss,
                      static_cast<int>(p.S - c0), kTile};
  // A warp's rows lie in one 64-position block (wblock); the score blocks on the other side of the
  // diagonal from it are zero and never written, so the warp skips those slices.
  constexpr int slices = BM / kTile;  // 64-key slices per row block
  const int wblock = rb * slices + Tl::warp_row() / kTile;
  if constexpr (Kind == GemmKind::h || Kind == GemmKind::dq)
    gemm_tiles<T, false, true, Tl>(acc, TileSrc<T>{S2 + rb * BM * p.L, p.L, kTile, BM, 0}, b2, 0,
                                   min((rb + 1) * slices, kmax), stage, [&](int kt) { return kt <= wblock; });
  else
    gemm_tiles<T, true, true, Tl>(acc, TileSrc<T>{S2 + rb * BM, p.L, kTile * p.L, p.L, kTile}, b2, rb * slices, kmax,
                                  stage, [&](int kt) { return kt >= wblock; });

  const SeqTensor& out = Kind == GemmKind::h ? p.h : Kind == GemmKind::dq ? p.dq : Kind == GemmKind::dk ? p.dk : p.dv;
  T* O = head_ptr<T>(out.ptr, out.sb, out.sh, bh, p.NH) + r0 * out.ss + col0;
  if constexpr (Kind == GemmKind::h) {
    store_tile<Tl>(acc, O, out.ss, rows, staging, [&](int r, int, float v) { return v / rs1[r]; });
    return;
  }
  store_tile<Tl>(acc, O, out.ss, rows, staging, [](int, int, float v) { return v; });
}

// One product per launch (h, xdot), a block per output tile: grid (tiles of a chunk) * NC * B*NH.
template <class T, class Tl, GemmKind Kind>
__global__ void __launch_bounds__(Tl::threads, 512 / Tl::threads) chunk_gemm_kernel(ChunkwiseParams p) {
  constexpr bool value_cols = Kind == GemmKind::h || Kind == GemmKind::dv;
  const int per_chunk = (value_cols ? p.DHV : p.DQK) / Tl::cols * (p.L / Tl::rows);
  chunk_gemm_tile<T, Tl, Kind>(p, blockIdx.x % per_chunk, blockIdx.x / per_chunk);
}

// dq, dk and dv in one launch: a chunk's dq, dk and dv tiles are consecutive blocks, which run together
// and so read the chunk's C_{k-1}, dC_k, dS, P' and inputs from DRAM once between them (from L2 after
// the first), where three launches read them up to three times.
template <class T, class Tl>
__global__ void __launch_bounds__(Tl::threads, 512 / Tl::threads) chunk_gemm_grads_kernel(ChunkwiseParams p) {
  const int LT = p.L / Tl::rows, dq_tiles = p.DQK / Tl::cols * LT;
  const int per_chunk = 2 * dq_tiles + p.DHV / Tl::cols * LT;
  const int tile = blockIdx.x % per_chunk, head_chunk = blockIdx.x / per_chunk;
  if (tile < dq_tiles) chunk_gemm_tile<T, Tl, GemmKind::dq>(p, tile, head_chunk);
  else if (tile < 2 * dq_tiles) chunk_gemm_tile<T, Tl, GemmKind::dk>(p, tile - dq_tiles, head_chunk);
  else chunk_gemm_tile<T, Tl, GemmKind::dv>(p, tile - 2 * dq_tiles, head_chunk);
}

// Launches kernel (a chunk_gemm kernel on tile Tl) with a block per output tile of `cols` columns (the
// products' output columns together) per row block and chunk.
template <class T, class Tl, class Kernel>
void launch_tiles(Kernel kernel, const ChunkwiseParams& p, int cols, cudaStream_t stream) {
  constexpr size_t smem = chunk_gemm_smem_bytes<T, Tl>();
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  const int blocks = (cols / Tl::cols) * (p.L / Tl::rows) * p.NC * p.B * p.NH;
  kernel<<<blocks, Tl::threads, smem, stream>>>(p);
}

// Whether Tile128 fits: L and every output head dimension (`dims`) are multiples of 128 (16-bit inputs
// only: the callers' `if constexpr`).
inline bool wide_tiles(const ChunkwiseParams& p, std::initializer_list<int> dims) {
  if (p.L % Tile128::rows != 0) return false;
  for (int d : dims)
    if (d % Tile128::cols != 0) return false;
  return true;
}

template <class T, class Tl>
void launch_one_kind(const ChunkwiseParams& p, GemmKind kind, int cols, cudaStream_t stream) {
  if (kind == GemmKind::h) launch_tiles<T, Tl>(chunk_gemm_kernel<T, Tl, GemmKind::h>, p, cols, stream);
  else launch_tiles<T, Tl>(chunk_gemm_kernel<T, Tl, GemmKind::xdot>, p, cols, stream);
}

// kind: h or xdot.
template <class T>
void launch_chunk_gemm(const ChunkwiseParams& p, GemmKind kind, cudaStream_t stream) {
  const int cols = kind == GemmKind::h ? p.DHV : p.DQK;  // xdot: dq's tiles
  if constexpr (!std::is_same<T, float>::value) {
    if (wide_tiles(p, {cols})) return launch_one_kind<T, Tile128>(p, kind, cols, stream);
  }
  launch_one_kind<T, Tile64>(p, kind, cols, stream);
}

template <class T>
void launch_chunk_gemm_grads(const ChunkwiseParams& p, cudaStream_t stream) {
  const int cols = 2 * p.DQK + p.DHV;
  if constexpr (!std::is_same<T, float>::value) {
    if (wide_tiles(p, {p.DQK, p.DHV}))
      return launch_tiles<T, Tile128>(chunk_gemm_grads_kernel<T, Tile128>, p, cols, stream);
  }
  launch_tiles<T, Tile64>(chunk_gemm_grads_kernel<T, Tile64>, p, cols, stream);
}

}  // namespace xlstm::kernels
