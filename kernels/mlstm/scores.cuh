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
// Backward, in two passes over the key blocks: the first writes P'_ij = P_ij / den_i (for dV = P'^T dH,
// den_i = |n_out_i| + eps) and keeps the fp32 tiles q_i.k_j and dh_i.v_j (one pipeline for both products)
// of the key blocks before the diagonal in shared memory, the diagonal block's in registers; with
//   r_i = dh_i . N_i / den_i^2,  N_i = sum_j P_ij v_j + u_i s q_i^T C_{k-1}  (the numerator of h_i, its
//         intra part summed here in fp32, the inter part xdot from chunk_gemm or dstate_walk: using
//         the stored bf16 h instead would lose the cancellation below to its rounding),
//   a_i = d(q~.n)_i = -r_i sign(n_out_i) where |q~.n| set the maximum (else 0), dm_i = -eps r_i,
// the second (the diagonal block first) writes dS_ij = s exp(ib_j - M_i) (dh_i . v_j / den_i + a_i) (the
// gradient of q_i . k_j) and sums G_ij = dS_ij (q_i . k_j) in fp64: sum_{j<t} G_tj - sum_{i>t} G_it per
// position t (the intra-chunk part of d b_t; in its reverse cumulative sum over a chunk the pairs inside
// the range cancel exactly) and sum_{i>=j} G_ij (the intra-chunk part of k_j . dk_j).
#pragma once

#include <cmath>

#include "mlstm/launch.h"
#include "mlstm/tile.cuh"

namespace xlstm::kernels {

// Shared memory: 4 stage tiles (the first one also stages the outputs between products), the row
// arrays, and in the backward 2 fp32 tiles per key block before the diagonal (the diagonal block's
// stay in registers: at L = 128 that fits 3 blocks per SM, where a stash of every key block fitted 2).
template <class T>
size_t scores_smem_bytes(int L, bool backward) {
  const size_t stash = backward ? 2 * static_cast<size_t>(L / kTile - 1) * kTile * kTile * sizeof(float) : 0;
  return stage_bytes<T, Tile64>() + 5 * 64 * sizeof(float) + 5 * 64 * sizeof(double) + stash;
}

// The stash of an fp32 64x64 tile in the accumulator layout: rows unpadded, the 8-column groups of row r
// XOR-ed with r % 4, so that a warp's 8-byte accesses of adjacent column pairs (4 rows x 4 pairs per half
// warp) fall in distinct banks.
template <class F>
__device__ __forceinline__ void stash_foreach_pair(Acc& acc, float* t, F&& f) {
  const int lane = threadIdx.x % 32;
  const int r0 = Tile64::warp_row() + lane / 4, c0 = Tile64::warp_col() + 2 * (lane % 4);
#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int r = r0 + 16 * mt + 8 * h;
#pragma unroll
      for (int nt = 0; nt < 4; ++nt)
        f(acc[mt][nt][2 * h], acc[mt][nt][2 * h + 1],
          *reinterpret_cast<float2*>(t + r * kTile + ((c0 + 8 * nt) ^ ((r & 3) << 3))));
    }
}
__device__ __forceinline__ void stash_acc(Acc& acc, float* t) {
  stash_foreach_pair(acc, t, [](float& x, float& y, float2& s) { s = make_float2(x, y); });
}
__device__ __forceinline__ void unstash_acc(Acc& acc, float* t) {
  stash_foreach_pair(acc, t, [](float& x, float& y, float2& s) {
    x = s.x;
    y = s.y;
  });
}

// out[r] = a_r . v for the block's 64 rows a_r (rows >= valid give 0) and a vector v of D floats: one warp
// per 16 rows, a lane's 16-byte pieces of all 16 rows loaded before they are summed (rows and v 16-byte
// aligned, as the tiles' cp.async copies of the same rows need).
template <class T>
__device__ __forceinline__ void row_dots(float* out, const T* a, int64_t lda, const float* v, int D, int valid) {
  constexpr int Vec = 16 / sizeof(T), Rows = 16;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, r0 = Rows * warp;
  float d[Rows] = {};
  for (int c = Vec * lane; c < D; c += 32 * Vec) {
    float vc[Vec];
#pragma unroll
    for (int e = 0; e < Vec; e += 4) *reinterpret_cast<float4*>(vc + e) = *reinterpret_cast<const float4*>(v + c + e);
    int4 x[Rows];
#pragma unroll
    for (int rr = 0; rr < Rows; ++rr)
      x[rr] = r0 + rr < valid ? *reinterpret_cast<const int4*>(a + (r0 + rr) * lda + c) : make_int4(0, 0, 0, 0);
#pragma unroll
    for (int rr = 0; rr < Rows; ++rr) {
      const T* xe = reinterpret_cast<const T*>(&x[rr]);
#pragma unroll
      for (int e = 0; e < Vec; ++e) d[rr] += to_float(xe[e]) * vc[e];
    }
  }
#pragma unroll
  for (int rr = 0; rr < Rows; ++rr) {
    for (int o = 16; o > 0; o /= 2) d[rr] += __shfl_xor_sync(0xffffffffu, d[rr], o);
    if (lane == 0) out[r0 + rr] = d[rr];
  }
}

// One instantiation per direction, the forward's at 4 blocks per SM (128 registers; one kernel for both
// took 168 for both, 3 blocks), the backward's at 3 for 16-bit inputs (168 registers; fp32's stage
// tiles leave room for 2).
template <class T, bool Backward>
__global__ void __launch_bounds__(kThreads, Backward ? (sizeof(T) == 2 ? 3 : 2) : 4) scores_kernel(ChunkwiseParams p) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* stage = reinterpret_cast<T*>(smem_raw);
  T* staging = stage;  // free between products: gemm_tiles and store_tile end with a barrier
  double* Mrow = reinterpret_cast<double*>(smem_raw + stage_bytes<T, Tile64>());  // fp64 gate values, see params.h
  double* colib = Mrow + 64;
  double* rowG = colib + 64;
  double* colG = rowG + 64;
  double* diagG = colG + 64;
  float* den = reinterpret_cast<float*>(diagG + 64);
  float* arow = den + 64;
  float* rsum = arow + 64;  // [2][64]
  float* dots = rsum + 128;
  float* stash = dots + 64;  // backward: [key block < qb][q.k, dh.v][64 * 64]

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
  const double m_prev = p.chunk_m[static_cast<int64_t>(bh) * (NC + 1) + kc];

  const T* Q = head_ptr<T>(p.q.ptr, p.q.sb, p.q.sh, bh, p.NH);
  const T* K = head_ptr<T>(p.k.ptr, p.k.sb, p.k.sh, bh, p.NH);
  const T* V = head_ptr<T>(p.v.ptr, p.v.sb, p.v.sh, bh, p.NH);
  const T* DH = Backward ? head_ptr<T>(p.dh.ptr, p.dh.sb, p.dh.sh, bh, p.NH) : nullptr;
  T* pout = static_cast<T*>(p.pbuf) + ((static_cast<int64_t>(bh) * NC + kc) * p.L + qb * kTile) * p.L;
  T* dsout = Backward ? static_cast<T*>(p.dsbuf) + ((static_cast<int64_t>(bh) * NC + kc) * p.L + qb * kTile) * p.L
                      : nullptr;

  if (tid < 64) Mrow[tid] = fmax(m_prev, p.gate_cm[bh * Sp + i0 + tid]);
  if (Backward && tid < 64) den[tid] = tid < rows ? fabsf(p.n_out[seq + i0 + tid]) + p.eps : 1.f;
  auto weight = [&](int kb, int r, int c) {
    return kb * kTile + c <= qb * kTile + r ? expf(static_cast<float>(colib[c] - Mrow[r])) * p.scale : 0.f;
  };
  auto load_colib = [&](int kb) {
    __syncthreads();  // the previous key block's colib is no longer read
    if (tid < 64) colib[tid] = p.gate_ib[bh * Sp + c0 + kb * kTile + tid];
  };
  float rowpart[2][2] = {{0.f, 0.f}, {0.f, 0.f}};
  Acc s, dp;  // q.k and (backward) dh.v of key block kb; after the loop, of the diagonal block
  for (int kb = 0; kb <= qb; ++kb) {
    const int64_t j0 = c0 + kb * kTile;
    load_colib(kb);
    const int krows = static_cast<int>(p.S - j0);
    const TileSrc<T> q{Q + i0 * p.q.ss, p.q.ss, kTile, rows, 0}, k{K + j0 * p.k.ss, p.k.ss, kTile, krows, 0};
    zero_acc(s);
    float part[2][2];
    if constexpr (!Backward) {
      gemm_tiles<T, false, false>(s, q, k, 0, p.DQK / kTile, stage);
      acc_foreach(s, [&](int r, int c, float& v) { v *= weight(kb, r, c); });
      acc_row_sums(s, part, [](int, int, float v) { return v; });
      store_tile(s, pout + kb * kTile, p.L, kTile, staging, [](int, int, float v) { return v; });
    } else {
      zero_acc(dp);
      gemm_tiles_pair<T, false, false>(s, q, k, p.DQK / kTile, dp,
                                       TileSrc<T>{DH + i0 * p.dh.ss, p.dh.ss, kTile, rows, 0},
                                       TileSrc<T>{V + j0 * p.v.ss, p.v.ss, kTile, krows, 0}, p.DHV / kTile, stage);
      Acc pd;  // P_ij (dh_i . v_j)
      acc_index_foreach([&](int mt, int nt, int e, int r, int c) {
        pd[mt][nt][e] = s[mt][nt][e] * weight(kb, r, c) * dp[mt][nt][e];
      });
      acc_row_sums(pd, part, [](int, int, float v) { return v; });
      if (kb < qb) {
        float* sq = stash + 2 * kb * kTile * kTile;
        stash_acc(s, sq);
        stash_acc(dp, sq + kTile * kTile);
      }
      store_tile(s, pout + kb * kTile, p.L, kTile, staging,
                 [&](int r, int c, float v) { return v * weight(kb, r, c) / den[r]; });
    }
    for (int mt = 0; mt < 2; ++mt)
      for (int h = 0; h < 2; ++h) rowpart[mt][h] += part[mt][h];
  }
  // Row sums of the two warp columns: the intra part of q~.n (forward) or of dh . N (backward).
  if (tid % 4 == 0)
    for (int mt = 0; mt < 2; ++mt)
      for (int h = 0; h < 2; ++h) rsum[(tid / 32 % 2) * 64 + acc_row(mt, h)] = rowpart[mt][h];

  if constexpr (!Backward) {  // denominator: intra row sums + the inter part u_i s (q_i . n_{k-1})
    const float* nprev = p.n_states + (static_cast<int64_t>(bh) * NC + kc) * p.DQK;
    row_dots(dots, Q + i0 * p.q.ss, p.q.ss, nprev, p.DQK, rows);
    __syncthreads();
    if (tid < rows) {
      const float u = expf(static_cast<float>(m_prev - Mrow[tid]));
      const float qn = rsum[tid] + rsum[64 + tid] + u * p.scale * dots[tid];
      const float m = static_cast<float>(p.gate_b[bh * Sp + i0 + tid] + Mrow[tid]);
      p.n_out[seq + i0 + tid] = copysignf(fmaxf(fabsf(qn), expf(-m)), qn);
      p.m_out[seq + i0 + tid] = m;
    }
    return;
  }

  __syncthreads();
  if (tid < 64) {
    float a = 0.f, dm = 0.f;
    if (tid < rows) {
      const float u = expf(static_cast<float>(m_prev - Mrow[tid]));
      const float dhn = rsum[tid] + rsum[64 + tid] + u * p.scale * static_cast<float>(p.xdot[bh * Sp + i0 + tid]);
      const float nv = p.n_out[seq + i0 + tid];
      const float r = dhn / (den[tid] * den[tid]);
      a = fabsf(nv) > expf(-p.m_out[seq + i0 + tid]) ? (nv < 0.f ? r : -r) : 0.f;  // -r sign(q~.n)
      dm = -p.eps * r;
    }
    arow[tid] = a;
    rowG[tid] = 0.0;
    p.a_buf[bh * Sp + i0 + tid] = a;
    p.dm_buf[bh * Sp + i0 + tid] = dm;
  }
  const int warp = tid / 32, lane = tid % 32;
  for (int kb = qb; kb >= 0; --kb) {  // the diagonal block from the registers, the others from the stash
    load_colib(kb);
    if (tid < 64) colG[tid] = diagG[tid] = 0.0;
    __syncthreads();
    if (kb < qb) {
      float* sq = stash + 2 * kb * kTile * kTile;
      unstash_acc(s, sq);
      unstash_acc(dp, sq + kTile * kTile);
    }
    Acc& ds = dp;
    acc_foreach(ds, [&](int r, int c, float& v) { v = weight(kb, r, c) * (v / den[r] + arow[r]); });
    // fp64 sums of G = dS (q.k) off the diagonal by rows and by columns; the diagonal's G_jj apart
    const bool diag = kb == qb;
    double colpart[4][2] = {};
#pragma unroll
    for (int mt = 0; mt < 2; ++mt)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int r = acc_row(mt, h);
        double rp = 0.0;
#pragma unroll
        for (int nt = 0; nt < 4; ++nt)
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const int c = 32 * (warp % 2) + 8 * nt + 2 * (lane % 4) + e;
            const double G = static_cast<double>(ds[mt][nt][2 * h + e]) * s[mt][nt][2 * h + e];
            if (diag && c == r) {
              diagG[c] = G;
            } else {
              rp += G;
              colpart[nt][e] += G;
            }
          }
        rp += __shfl_xor_sync(0xffffffffu, rp, 1);
        rp += __shfl_xor_sync(0xffffffffu, rp, 2);
        if (lane % 4 == 0) atomicAdd(rowG + r, rp);
      }
#pragma unroll
    for (int nt = 0; nt < 4; ++nt)
      for (int e = 0; e < 2; ++e) {
        double x = colpart[nt][e];
        for (int o = 4; o < 32; o *= 2) x += __shfl_xor_sync(0xffffffffu, x, o);
        if (lane < 4) atomicAdd(colG + 32 * (warp % 2) + 8 * nt + 2 * lane + e, x);
      }
    store_tile(ds, dsout + kb * kTile, p.L, kTile, staging, [](int, int, float v) { return v; });
    const int64_t j = c0 + kb * kTile + tid;
    if (tid < 64 && j < p.S) {  // the column sums enter d b with the opposite sign
      atomicAdd(p.rowdot + bh * Sp + j, -colG[tid]);
      atomicAdd(p.kdk + bh * Sp + j, colG[tid] + diagG[tid]);
    }
  }
  __syncthreads();
  if (tid < rows) atomicAdd(p.rowdot + bh * Sp + i0 + tid, rowG[tid]);
}

template <class T>
void launch_scores(const ChunkwiseParams& p, bool backward, cudaStream_t stream) {
  const size_t smem = scores_smem_bytes<T>(p.L, backward);
  const auto kernel = backward ? scores_kernel<T, true> : scores_kernel<T, false>;
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  // (the backward's 3 blocks per SM need all 228 KB of the SM's L1 as shared memory)
  cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared);
  const int blocks = (p.L / kTile) * p.NC * p.B * p.NH;
  kernel<<<blocks, kThreads, smem, stream>>>(p);
}

}  // namespace xlstm::kernels
