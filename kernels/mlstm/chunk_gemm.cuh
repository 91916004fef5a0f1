// The parallel products of the chunkwise mLSTM: one 64x64 output tile per block (grid: column tiles *
// L/64 row blocks * NC chunks * B*NH, 4 warps), each the sum of an inter-chunk product over a head
// dimension (phase 1, then a per-row / per-column epilogue) and a block-causal intra-chunk product over
// the chunk's positions (phase 2):
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

#include "mlstm/launch.h"
#include "mlstm/tile.cuh"

namespace xlstm::kernels {

// 4 stage tiles (the first one also stages the output) and the row/column arrays.
template <class T>
constexpr size_t chunk_gemm_smem_bytes() {
  return 4 * TileLayout<T>::elems * sizeof(T) + 4 * 64 * sizeof(float);
}

template <class T>
__global__ void __launch_bounds__(kThreads) chunk_gemm_kernel(ChunkwiseParams p, GemmKind kind) {
  constexpr int E = TileLayout<T>::elems;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* stage = reinterpret_cast<T*>(smem_raw);
  T* staging = stage;  // free once the last product is done (gemm_tiles ends with a barrier)
  float* rs0 = reinterpret_cast<float*>(stage + 4 * E);
  float* rs1 = rs0 + 64;
  float* rs2 = rs1 + 64;
  float* colv = rs2 + 64;

  const int tid = threadIdx.x;
  const bool value_cols = kind == GemmKind::h || kind == GemmKind::dv;
  const int tn_count = (value_cols ? p.DHV : p.DQK) / kTile, LT = p.L / kTile, NC = p.NC;
  int x = blockIdx.x;
  const int tn = x % tn_count;
  x /= tn_count;
  const int rb = x % LT;
  x /= LT;
  const int kc = x % NC;
  const int bh = x / NC;
  const int64_t c0 = static_cast<int64_t>(kc) * p.L, r0 = c0 + rb * kTile;
  if (r0 >= p.S) return;
  const int rows = static_cast<int>(p.S - r0 < kTile ? p.S - r0 : kTile);
  const int chunk_rows = static_cast<int>(p.S - c0 < p.L ? p.S - c0 : p.L);
  const int kmax = (chunk_rows + kTile - 1) / kTile;  // 64-row blocks of this chunk holding positions
  const int64_t Sp = static_cast<int64_t>(NC) * p.L, seq = static_cast<int64_t>(bh) * p.S;
  const int64_t col0 = static_cast<int64_t>(tn) * kTile;

  const T* Q = head_ptr<T>(p.q.ptr, p.q.sb, p.q.sh, bh, p.NH);
  const T* K = head_ptr<T>(p.k.ptr, p.k.sb, p.k.sh, bh, p.NH);
  const int64_t chunk_index = static_cast<int64_t>(bh) * NC + kc;
  const int64_t state_size = static_cast<int64_t>(p.DQK) * p.DHV;
  const bool forward_state = kind == GemmKind::h || kind == GemmKind::dq || kind == GemmKind::xdot;
  const T* St = static_cast<const T*>(forward_state ? p.states : p.dstates) + chunk_index * state_size;
  const float* nst = (forward_state ? p.n_states : p.dn_states) + chunk_index * p.DQK;
  const T* Pb = static_cast<const T*>(p.pbuf) + chunk_index * p.L * p.L;
  const T* DSb = kind == GemmKind::h ? nullptr : static_cast<const T*>(p.dsbuf) + chunk_index * p.L * p.L;

  // The epilogue's row and column scalars: their inputs are read into registers now and the scalars
  // written to shared memory after phase 1, so that the loads' latency overlaps the products.
  const int64_t t_row = r0 + tid;
  const bool row_valid = tid < rows;
  double m_prev = 0.0, m_next = 0.0, row_g = 0.0;
  float row_f = 1.f, row_a = 0.f, col_n = 0.f;
  if (tid < 64) {
    const double* cm = p.chunk_m + bh * static_cast<int64_t>(NC + 1) + kc;
    if (forward_state) {
      m_prev = cm[0];
      row_g = p.gate_cm[bh * Sp + t_row];
      if (row_valid) row_f = p.n_out[seq + t_row];
      if (kind == GemmKind::dq) row_a = p.a_buf[bh * Sp + t_row];
    } else {
      m_next = cm[1];
      if (row_valid) row_g = p.chunk_g[chunk_index] + p.gate_ib[bh * Sp + t_row];
    }
    if (kind == GemmKind::dq || kind == GemmKind::dk || kind == GemmKind::xdot) col_n = nst[col0 + tid];
  }
  const auto write_scalars = [&] {
    if (tid < 64) {
      if (forward_state) {
        rs0[tid] = expf(static_cast<float>(m_prev - fmax(m_prev, row_g))) * p.scale;  // u s
        rs1[tid] = row_valid ? fabsf(row_f) + p.eps : 1.f;                             // den
        rs2[tid] = row_a;
      } else {
        rs0[tid] = row_valid ? expf(static_cast<float>(row_g - m_next)) : 0.f;  // w
      }
      colv[tid] = col_n;
    }
    __syncthreads();
  };

  Acc acc;
  zero_acc(acc);
  // Phase 1: the inter-chunk product with the state (or its gradient): rows of q (h), dh (dq, xdot),
  // v (dk) or k (dv) times the state read as (dq, dv) ("row" B: h, dv) or transposed ("col" B: dq, xdot, dk).
  const SeqTensor& in1 = kind == GemmKind::h ? p.q : kind == GemmKind::dk ? p.v : kind == GemmKind::dv ? p.k : p.dh;
  const T* A1 = head_ptr<T>(in1.ptr, in1.sb, in1.sh, bh, p.NH) + r0 * in1.ss;
  if (kind == GemmKind::h || kind == GemmKind::dv)
    gemm_tiles<T, false, true>(acc, TileSrc<T>{A1, in1.ss, kTile, rows, 0},
                               TileSrc<T>{St + col0, p.DHV, kTile * p.DHV, p.DQK, kTile}, 0, p.DQK / kTile, stage);
  else
    gemm_tiles<T, false, false>(acc, TileSrc<T>{A1, in1.ss, kTile, rows, 0},
                                TileSrc<T>{St + col0 * p.DHV, p.DHV, kTile, kTile, 0}, 0, p.DHV / kTile, stage);
  // Rows' dot products with q (xdot, dq) or k (dk), summed in fp64 per position.
  auto add_row_dots = [&](double* sum, double sign, double* sum2) {
    const T* in = kind == GemmKind::dk ? K + r0 * p.k.ss + col0 : Q + r0 * p.q.ss + col0;
    const int64_t ld = kind == GemmKind::dk ? p.k.ss : p.q.ss;
    float part[2][2];
    acc_row_sums(acc, part, [&](int r, int c, float v) { return r < rows ? v * to_float(in[r * ld + c]) : 0.f; });
    if (tid % 4 == 0)
      for (int mt = 0; mt < 2; ++mt)
        for (int h = 0; h < 2; ++h) {
          const int r = acc_row(mt, h);
          if (r >= rows) continue;
          atomicAdd(sum + bh * Sp + r0 + r, sign * part[mt][h]);
          if (sum2) atomicAdd(sum2 + bh * Sp + r0 + r, static_cast<double>(part[mt][h]));
        }
  };
  if (kind == GemmKind::xdot) {
    add_row_dots(p.xdot, 1.0, nullptr);
    return;
  }
  write_scalars();
  acc_foreach(acc, [&](int r, int c, float& v) {
    switch (kind) {
      case GemmKind::h: v *= rs0[r]; break;
      case GemmKind::dq: v = rs0[r] * (v / rs1[r] + rs2[r] * colv[c]); break;
      case GemmKind::dk: v = rs0[r] * (v + colv[c]); break;
      case GemmKind::dv: v *= rs0[r]; break;
      case GemmKind::xdot: break;
    }
  });
  if (kind == GemmKind::dq) add_row_dots(p.rowdot, 1.0, nullptr);  // q . dq (inter)
  if (kind == GemmKind::dk) add_row_dots(p.kst, 1.0, p.kdk);        // k . dk (state)
  // Phase 2: the intra-chunk product over the causal blocks: P or dS rows (h, dq; key blocks up to the
  // row block) or P'^T, dS^T rows (dv, dk; query blocks from the row block on) times v, k, dh or q rows.
  if (kind != GemmKind::xdot) {
    const SeqTensor& in2 = kind == GemmKind::h ? p.v : kind == GemmKind::dq ? p.k : kind == GemmKind::dk ? p.q : p.dh;
    const T* S2 = kind == GemmKind::h || kind == GemmKind::dv ? Pb : DSb;
    const TileSrc<T> b2{head_ptr<T>(in2.ptr, in2.sb, in2.sh, bh, p.NH) + c0 * in2.ss + col0, in2.ss, kTile * in2.ss,
                        static_cast<int>(p.S - c0), kTile};
    if (kind == GemmKind::h || kind == GemmKind::dq)
      gemm_tiles<T, false, true>(acc, TileSrc<T>{S2 + rb * kTile * p.L, p.L, kTile, kTile, 0}, b2, 0, rb + 1, stage);
    else
      gemm_tiles<T, true, true>(acc, TileSrc<T>{S2 + rb * kTile, p.L, kTile * p.L, p.L, kTile}, b2, rb, kmax, stage);
  }

  const SeqTensor& out = kind == GemmKind::h ? p.h : kind == GemmKind::dq ? p.dq : kind == GemmKind::dk ? p.dk : p.dv;
  T* O = head_ptr<T>(out.ptr, out.sb, out.sh, bh, p.NH) + r0 * out.ss + col0;
  if (kind == GemmKind::h) {
    store_tile(acc, O, out.ss, rows, staging, [&](int r, int, float v) { return v / rs1[r]; });
    return;
  }
  store_tile(acc, O, out.ss, rows, staging, [](int, int, float v) { return v; });
}

template <class T>
void launch_chunk_gemm(const ChunkwiseParams& p, GemmKind kind, cudaStream_t stream) {
  constexpr size_t smem = chunk_gemm_smem_bytes<T>();
  cudaFuncSetAttribute(chunk_gemm_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  const int cols = kind == GemmKind::h || kind == GemmKind::dv ? p.DHV : p.DQK;  // xdot: the dq tiles
  const int blocks = (cols / kTile) * (p.L / kTile) * p.NC * p.B * p.NH;
  chunk_gemm_kernel<T><<<blocks, kThreads, smem, stream>>>(p, kind);
}

}  // namespace xlstm::kernels
