// The normaliser's walk of the fused forward (fused_forward.cuh): per chunk n_{k-1} and the stabiliser
// m_{k-1}, one block of 256 threads per (64 columns of n, head) (grid DQK/64 * B*NH):
//   m_k = max(g_k + m_{k-1}, amax_k),  n_k = exp(g_k + m_{k-1} - m_k) n_{k-1} + sum_j w_j k_j,
//   w_j = exp(g_k + ib_j - m_k)
// (the n and m of the state walk in recurrent.cuh, without C). The scores kernel needs n_{k-1} and m_{k-1}
// for the denominator before the fused kernel runs, so n walks alone: it reads K once and does 1/DHV of
// the state walk's products. A thread owns 8 columns (one 16-byte load per row) and every 32nd row of a
// chunk; the 32 partial sums of a column are added by its owner thread. K values load two chunks ahead.
#pragma once

#include <cmath>

#include "mlstm/launch.h"
#include "mlstm/tile.cuh"

namespace xlstm::kernels {

constexpr int kNormWalkThreads = 256, kNormWalkMaxChunk = 128;  // (the fused forward's chunks)

template <class T>
__global__ void __launch_bounds__(kNormWalkThreads, 2) norm_walk_kernel(ChunkwiseParams p) {
  constexpr int Vec = 16 / sizeof(T), Groups = kTile / Vec, Parts = kNormWalkThreads / Groups;
  constexpr int Rows = kNormWalkMaxChunk / Parts;  // a thread's rows of a chunk, at most
  __shared__ float weights[kNormWalkMaxChunk];
  __shared__ float partial[Parts][kTile];
  const int tid = threadIdx.x, group = tid % Groups, part = tid / Groups;
  const int tq_count = p.DQK / kTile, tq = blockIdx.x % tq_count, bh = blockIdx.x / tq_count;
  const bool lead_m = tq == 0 && tid == 0, owner = tid < kTile;  // owner: column tid's n
  const int NC = p.NC, rows = p.L / Parts;
  const int64_t Sp = static_cast<int64_t>(NC) * p.L;
  const T* K = head_ptr<T>(p.k.ptr, p.k.sb, p.k.sh, bh, p.NH) + tq * kTile + group * Vec;
  const double* chunk_g = p.chunk_g + static_cast<int64_t>(bh) * NC;
  const double* chunk_amax = p.chunk_amax + static_cast<int64_t>(bh) * NC;
  double* chunk_m = p.chunk_m + static_cast<int64_t>(bh) * (NC + 1);
  const double* gib = p.gate_ib + bh * Sp;
  const int64_t ncol = static_cast<int64_t>(bh) * p.DQK + tq * kTile + tid;
  float* nstates = p.n_states + static_cast<int64_t>(bh) * NC * p.DQK + tq * kTile + tid;

  // This thread's 16-byte pieces of K in chunk kc: rows part + Parts * j; zeros past S.
  const auto load = [&](int4(&dst)[Rows], int kc) {
#pragma unroll
    for (int j = 0; j < Rows; ++j) {
      if (j >= rows) break;
      const int64_t t = static_cast<int64_t>(kc) * p.L + part + Parts * j;
      dst[j] = t < p.S ? *reinterpret_cast<const int4*>(K + t * p.k.ss) : make_int4(0, 0, 0, 0);
    }
  };
  // The log weight ib of row tid of chunk kc (the threads tid < L), read one chunk ahead.
  const auto load_ib = [&](int kc) {
    const int64_t t = static_cast<int64_t>(kc) * p.L + tid;
    return tid < p.L && t < p.S ? gib[t] : 0.0;
  };
  double ib = load_ib(0), g_next = chunk_g[0], amax_next = chunk_amax[0];
  double m_run = p.m0 ? static_cast<double>(p.m0[bh]) : -INFINITY;
  float n = p.n0 && owner ? p.n0[ncol] : 0.f;
  // Chunk kc from cur while chunk kc + 2's K values load into ahead (the caller rotates three arrays: a
  // copy from one to another would wait for the loads right there; one chunk ahead left the walk waiting
  // on DRAM) and chunk kc + 1's gate values into registers.
  const auto walk_chunk = [&](int kc, const int4(&cur)[Rows], int4(&ahead)[Rows]) {
    const double g = g_next, m_k = fmax(g + m_run, amax_next);
    if (lead_m) chunk_m[kc] = m_run;
    const float decay = expf(static_cast<float>(g + m_run - m_k));
    if (tid < p.L) weights[tid] = static_cast<int64_t>(kc) * p.L + tid < p.S ? expf(static_cast<float>(g + ib - m_k)) : 0.f;
    m_run = m_k;
    if (kc + 2 < NC) load(ahead, kc + 2);
    if (kc + 1 < NC) {
      ib = load_ib(kc + 1);
      g_next = chunk_g[kc + 1];
      amax_next = chunk_amax[kc + 1];
    }
    __syncthreads();  // weights written; the previous chunk's partial sums read
    float sum[Vec] = {};
#pragma unroll
    for (int j = 0; j < Rows; ++j) {
      if (j >= rows) break;
      const float wj = weights[part + Parts * j];
      const T* x = reinterpret_cast<const T*>(&cur[j]);
#pragma unroll
      for (int e = 0; e < Vec; ++e) sum[e] += wj * to_float(x[e]);
    }
#pragma unroll
    for (int e = 0; e < Vec; ++e) partial[part][group * Vec + e] = sum[e];
    __syncthreads();  // partial sums written; the weights read
    if (owner) {
      nstates[static_cast<int64_t>(kc) * p.DQK] = n;
      float next_n = decay * n;
#pragma unroll 8
      for (int q = 0; q < Parts; ++q) next_n += partial[q][tid];
      n = next_n;
    }
  };
  int4 k0[Rows], k1[Rows], k2[Rows];
  load(k0, 0);
  if (NC > 1) load(k1, 1);
  for (int kc = 0; kc < NC; kc += 3) {
    walk_chunk(kc, k0, k2);
    if (kc + 1 < NC) walk_chunk(kc + 1, k1, k0);
    if (kc + 2 < NC) walk_chunk(kc + 2, k2, k1);
  }
  if (owner && p.n_last) p.n_last[ncol] = n;
  if (lead_m) {
    chunk_m[NC] = m_run;
    if (p.m_last) p.m_last[bh] = static_cast<float>(m_run);
  }
}

template <class T>
void launch_norm_walk(const ChunkwiseParams& p, cudaStream_t stream) {
  const int blocks = (p.DQK / kTile) * p.B * p.NH;
  norm_walk_kernel<T><<<blocks, kNormWalkThreads, 0, stream>>>(p);
}

}  // namespace xlstm::kernels
