// The intra-chunk score matrix of the chunkwise mLSTM (grid: L/64 query blocks * NC chunks * B*NH,
// 4 warps; the block of query rows i walks the key blocks j up to the diagonal).
//
// With M_i = max(m_{k-1}, cm_i) (the row's stabiliser relative to the chunk start) the gated scores
//   P_ij = s (q_i . k_j) exp(ib_j - M_i)   for j <= i (0 above the diagonal), s = 1/sqrt(DQK),
// have weights <= 1 (cm_i is the running maximum of ib). P is written in the input dtype for the
// output kernel (chunk_gemm).
//
// Forward: also the denominator. q~_i . n_i = sum_j P_ij + u_i s (q_i . n_{k-1}), u_i = exp(m_{k-1} - M_i);
// m_i = b_i + M_i; n_out_i = max(|q~.n|, exp(-m_i)) with the sign of q~.n; m_out_i = m_i.
//
// Backward: with den_i = |n_out_i| + eps, r_i = <dh_i, h_i> / den_i, a_i = d(q~.n)_i = -r_i sign(n_out_i)
// where |q~.n| set the maximum (else 0), and dm_i = -eps r_i (the gradient through the stabiliser):
//   P'_ij = P_ij / den_i                        (for dV = P'^T dH),
//   dS_ij = s exp(ib_j - M_i) (dh_i . v_j / den_i + a_i)   (the gradient of q_i . k_j).
#pragma once

#include <cmath>

#include "mlstm/launch.h"
#include "mlstm/tile.cuh"

namespace xlstm::kernels {

template <class T>
constexpr size_t scores_smem_bytes() {
  return 5 * TileLayout<T>::elems * sizeof(T) + (7 * 64 + 32) * sizeof(float);
}

// Dot products of 64 rows (rows >= valid give 0) of two row sets (ldb 0 broadcasts one vector), one
// warp per 16 rows.
template <class TA, class TB>
__device__ __forceinline__ void row_dots(float* out, const TA* a, int64_t lda, const TB* b, int64_t ldb, int D,
                                         int valid) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (int rr = 0; rr < 16; ++rr) {
    const int r = 16 * warp + rr;
    float d = 0.f;
    if (r < valid)
      for (int c = lane; c < D; c += 32) d += to_float(a[r * lda + c]) * to_float(b[r * ldb + c]);
    for (int o = 16; o > 0; o /= 2) d += __shfl_xor_sync(0xffffffffu, d, o);
    if (lane == 0) out[r] = d;
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads) scores_kernel(ChunkwiseParams p, bool backward) {
  constexpr int E = TileLayout<T>::elems;
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* stage = reinterpret_cast<T*>(smem_raw);
  T* staging = stage + 4 * E;
  float* Mrow = reinterpret_cast<float*>(staging + E);
  float* den = Mrow + 64;
  float* arow = den + 64;
  float* rsum = arow + 64;  // [2][64]
  float* dots = rsum + 128;
  float* colib = dots + 64;

  const int tid = threadIdx.x;
  const int LT = p.L / kTile, NC = p.NC;
  int x = blockIdx.x;
  const int qb = x % LT;
  x /= LT;
  const int kc = x % NC;
  const int bh = x / NC;
  const int64_t c0 = static_cast<int64_t>(kc) * p.L;  // first position of the chunk
  const int64_t i0 = c0 + qb * kTile;
  if (i0 >= p.S) return;
  const int rows = static_cast<int>(p.S - i0 < kTile ? p.S - i0 : kTile);
  const int64_t Sp = static_cast<int64_t>(NC) * p.L, seq = static_cast<int64_t>(bh) * p.S;
  const float m_prev = p.chunk_m[static_cast<int64_t>(bh) * (NC + 1) + kc];

  const T* Q = head_ptr<T>(p.q.ptr, p.q.sb, p.q.sh, bh, p.NH);
  const T* K = head_ptr<T>(p.k.ptr, p.k.sb, p.k.sh, bh, p.NH);
  const T* V = head_ptr<T>(p.v.ptr, p.v.sb, p.v.sh, bh, p.NH);
  const T* DH = backward ? head_ptr<T>(p.dh.ptr, p.dh.sb, p.dh.sh, bh, p.NH) : nullptr;
  T* pout = static_cast<T*>(p.pbuf) + ((static_cast<int64_t>(bh) * NC + kc) * p.L + qb * kTile) * p.L;
  T* dsout = backward ? static_cast<T*>(p.dsbuf) + ((static_cast<int64_t>(bh) * NC + kc) * p.L + qb * kTile) * p.L
                      : nullptr;

  if (tid < 64) Mrow[tid] = fmaxf(m_prev, p.gate_cm[bh * Sp + i0 + tid]);
  if (backward) {
    const T* H = head_ptr<T>(p.h.ptr, p.h.sb, p.h.sh, bh, p.NH);
    row_dots(dots, DH + i0 * p.dh.ss, p.dh.ss, H + i0 * p.h.ss, p.h.ss, p.DHV, rows);
    __syncthreads();
    if (tid < 64) {
      float dd = 1.f, a = 0.f, dm = 0.f;
      if (tid < rows) {
        const float nv = p.n_out[seq + i0 + tid], na = fabsf(nv);
        dd = na + p.eps;
        const float r = dots[tid] / dd;
        a = na > expf(-p.m_out[seq + i0 + tid]) ? copysignf(r, -nv) : 0.f;
        dm = -p.eps * r;
      }
      den[tid] = dd;
      arow[tid] = a;
      p.a_buf[bh * Sp + i0 + tid] = a;
      p.dm_buf[bh * Sp + i0 + tid] = dm;
    }
  }
  float rowpart[2][2] = {{0.f, 0.f}, {0.f, 0.f}};
  for (int kb = 0; kb <= qb; ++kb) {
    const int64_t j0 = c0 + kb * kTile;
    __syncthreads();  // colib of the previous key block is no longer read
    if (tid < 64) colib[tid] = p.gate_ib[bh * Sp + j0 + tid];
    const int krows = static_cast<int>(p.S - j0);
    Acc s;
    zero_acc(s);
    gemm_tiles<T, false, false>(s, TileSrc<T>{Q + i0 * p.q.ss, p.q.ss, kTile, rows, 0},
                                TileSrc<T>{K + j0 * p.k.ss, p.k.ss, kTile, krows, 0}, 0, p.DQK / kTile, stage);
    auto weight = [&](int r, int c) {
      return kb * kTile + c <= qb * kTile + r ? expf(colib[c] - Mrow[r]) * p.scale : 0.f;
    };
    if (!backward) {
      acc_foreach(s, [&](int r, int c, float& v) { v *= weight(r, c); });
      float part[2][2];
      acc_row_sums(s, part, [](int, int, float v) { return v; });
      for (int mt = 0; mt < 2; ++mt)
        for (int h = 0; h < 2; ++h) rowpart[mt][h] += part[mt][h];
      store_tile(s, pout + kb * kTile, p.L, kTile, staging, [](int, int, float v) { return v; });
    } else {
      store_tile(s, pout + kb * kTile, p.L, kTile, staging,
                 [&](int r, int c, float v) { return v * weight(r, c) / den[r]; });
      Acc dp;
      zero_acc(dp);
      gemm_tiles<T, false, false>(dp, TileSrc<T>{DH + i0 * p.dh.ss, p.dh.ss, kTile, rows, 0},
                                  TileSrc<T>{V + j0 * p.v.ss, p.v.ss, kTile, krows, 0}, 0, p.DHV / kTile, stage);
      store_tile(dp, dsout + kb * kTile, p.L, kTile, staging,
                 [&](int r, int c, float v) { return weight(r, c) * (v / den[r] + arow[r]); });
    }
  }
  if (backward) return;

  // Denominator: intra row sums + the inter part u_i s (q_i . n_{k-1}).
  if (tid % 4 == 0)
    for (int mt = 0; mt < 2; ++mt)
      for (int h = 0; h < 2; ++h) rsum[(tid / 32 % 2) * 64 + acc_row(mt, h)] = rowpart[mt][h];
  const float* nprev = p.n_states + (static_cast<int64_t>(bh) * NC + kc) * p.DQK;
  row_dots(dots, Q + i0 * p.q.ss, p.q.ss, nprev, 0, p.DQK, rows);  // n broadcast to every row
  __syncthreads();
  if (tid < rows) {
    const float u = expf(m_prev - Mrow[tid]);
    const float qn = rsum[tid] + rsum[64 + tid] + u * p.scale * dots[tid];
    const float m = p.gate_b[bh * Sp + i0 + tid] + Mrow[tid];
    p.n_out[seq + i0 + tid] = copysignf(fmaxf(fabsf(qn), expf(-m)), qn);
    p.m_out[seq + i0 + tid] = m;
  }
}

template <class T>
void launch_scores(const ChunkwiseParams& p, bool backward, cudaStream_t stream) {
  constexpr size_t smem = scores_smem_bytes<T>();
  cudaFuncSetAttribute(scores_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  const int blocks = (p.L / kTile) * p.NC * p.B * p.NH;
  scores_kernel<T><<<blocks, kThreads, smem, stream>>>(p, backward);
}

}  // namespace xlstm::kernels
