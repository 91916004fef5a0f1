// The normaliser's walks of the wgmma kernels, one block of 256 threads per (64 columns of n, head) (grid
// DQK/64 * B*NH). Forward (before fused_forward.cuh): per chunk n_{k-1} and the stabiliser m_{k-1},
//   m_k = max(g_k + m_{k-1}, amax_k),  n_k = exp(g_k + m_{k-1} - m_k) n_{k-1} + sum_j w_j k_j,
//   w_j = exp(g_k + ib_j - m_k)
// (the n and m of the state walk in recurrent.cuh, without C): the scores kernel needs n_{k-1} and m_{k-1}
// for the denominator before the fused kernel runs. Backward (beside dstate_walk.cuh): in reverse, dn_k
// before chunk k, then dn_{k-1} = exp(g_k + m_{k-1} - m_k) dn_k + sum_i u_i s a_i q_i, with the dn parts
// of the forget-gate sums D_k and of <dC0, C0> + <dn0, n0> (recurrent.cuh's backward's n). Either reads
// its K or Q once and does 1/DHV of the state walk's products. A thread owns 8 columns (one 16-byte load
// per row) and every 32nd row of a chunk; the 32 partial sums of a column are added by its owner thread.
// X values load two chunks ahead.
#pragma once

#include <cmath>

#include "mlstm/launch.h"
#include "mlstm/tile.cuh"

namespace xlstm::kernels {

constexpr int kNormWalkThreads = 256, kNormWalkMaxChunk = 128;  // (the wgmma kernels' chunks)

template <class T, bool Backward>
__global__ void __launch_bounds__(kNormWalkThreads, 2) norm_walk_kernel(ChunkwiseParams p) {
  constexpr int Vec = 16 / sizeof(T), Groups = kTile / Vec, Parts = kNormWalkThreads / Groups;
  constexpr int Rows = kNormWalkMaxChunk / Parts;  // a thread's rows of a chunk, at most
  __shared__ float weights[kNormWalkMaxChunk];
  __shared__ float partial[Parts][kTile];
  const int tid = threadIdx.x, group = tid % Groups, part = tid / Groups;
  const int tq_count = p.DQK / kTile, tq = blockIdx.x % tq_count, bh = blockIdx.x / tq_count;
  const bool lead_m = !Backward && tq == 0 && tid == 0, owner = tid < kTile;  // owner: column tid's n
  const int NC = p.NC, rows = p.L / Parts;
  const int64_t Sp = static_cast<int64_t>(NC) * p.L;
  const SeqTensor& xs = Backward ? p.q : p.k;
  const T* X = head_ptr<T>(xs.ptr, xs.sb, xs.sh, bh, p.NH) + tq * kTile + group * Vec;
  const double* chunk_g = p.chunk_g + static_cast<int64_t>(bh) * NC;
  const double* chunk_amax = p.chunk_amax + static_cast<int64_t>(bh) * NC;
  double* chunk_m = p.chunk_m + static_cast<int64_t>(bh) * (NC + 1);
  const int64_t ncol = static_cast<int64_t>(bh) * p.DQK + tq * kTile + tid;
  const int64_t nstate0 = static_cast<int64_t>(bh) * NC * p.DQK + tq * kTile + tid;
  float* nstates = (Backward ? p.dn_states : p.n_states) + nstate0;
  const auto chunk_at = [&](int i) { return Backward ? NC - 1 - i : i; };  // the walk's i-th chunk

  // This thread's 16-byte pieces of X in the walk's i-th chunk: rows part + Parts * j; zeros past S.
  const auto load = [&](int4(&dst)[Rows], int i) {
    const int64_t c0 = static_cast<int64_t>(chunk_at(i)) * p.L;
#pragma unroll
    for (int j = 0; j < Rows; ++j) {
      if (j >= rows) break;
      const int64_t t = c0 + part + Parts * j;
      dst[j] = t < p.S ? *reinterpret_cast<const int4*>(X + t * xs.ss) : make_int4(0, 0, 0, 0);
    }
  };
  // The chunk's scalars (g_k and amax_k, or m_{k-1} and m_k) and the inputs of row tid's weight, read one
  // chunk ahead: the log weight ib (forward), or the running max cm of the log weights, a, and the
  // owner's n_{k-1} for D_k (backward).
  struct Ahead {
    double g, amax, m_prev, m_k, row;
    float a, n_prev;
  };
  const auto read_ahead = [&](int kc) {
    Ahead x{chunk_g[kc], 0.0, 0.0, 0.0, 0.0, 0.f, 0.f};
    const int64_t t = static_cast<int64_t>(kc) * p.L + tid;
    const bool valid = tid < p.L && t < p.S;
    if (Backward) {
      x.m_prev = chunk_m[kc];
      x.m_k = chunk_m[kc + 1];
      x.row = tid < p.L ? p.gate_cm[bh * Sp + t] : 0.0;
      x.a = valid ? p.a_buf[bh * Sp + t] : 0.f;
      x.n_prev = owner ? p.n_states[nstate0 + static_cast<int64_t>(kc) * p.DQK] : 0.f;
    } else {
      x.amax = chunk_amax[kc];
      x.row = valid ? p.gate_ib[bh * Sp + t] : 0.0;
    }
    return x;
  };
  Ahead ahead = read_ahead(chunk_at(0));
  double m_run = !Backward && p.m0 ? static_cast<double>(p.m0[bh]) : -INFINITY;
  const float* ninit = Backward ? p.dn_last : p.n0;
  float n = ninit && owner ? ninit[ncol] : 0.f;
  // The walk's i-th chunk from cur while the (i + 2)-th's X values load into next2 (the caller rotates
  // three arrays: a copy from one to another would wait for the loads right there; one chunk ahead left
  // the walk waiting on DRAM) and the (i + 1)-th's scalars into registers.
  const auto walk_chunk = [&](int i, const int4(&cur)[Rows], int4(&next2)[Rows]) {
    const int kc = chunk_at(i);
    const Ahead a = ahead;
    double m_prev = a.m_prev, m_k = a.m_k;
    if (!Backward) {
      m_prev = m_run;
      m_k = fmax(a.g + m_run, a.amax);
      if (lead_m) chunk_m[kc] = m_run;
      m_run = m_k;
    }
    const float decay = expf(static_cast<float>(a.g + m_prev - m_k));
    if (tid < p.L) {
      float wt = 0.f;
      if (static_cast<int64_t>(kc) * p.L + tid < p.S)
        wt = Backward ? expf(static_cast<float>(m_prev - fmax(m_prev, a.row))) * p.scale * a.a
                      : expf(static_cast<float>(a.g + a.row - m_k));
      weights[tid] = wt;
    }
    if (i + 2 < NC) load(next2, i + 2);
    if (i + 1 < NC) ahead = read_ahead(chunk_at(i + 1));
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
      if (Backward) {  // the dn part of D_k (recurrent.cuh): decay <dn_k, n_{k-1}>, one atomic per warp
        const double d = warp_sum(static_cast<double>(decay * n * a.n_prev));
        if (tid % 32 == 0) atomicAdd(p.dchunk + static_cast<int64_t>(bh) * NC + kc, d);
      }
      float next_n = decay * n;
#pragma unroll 8
      for (int q = 0; q < Parts; ++q) next_n += partial[q][tid];
      n = next_n;
    }
  };
  int4 x0[Rows], x1[Rows], x2[Rows];
  load(x0, 0);
  if (NC > 1) load(x1, 1);
  for (int i = 0; i < NC; i += 3) {
    walk_chunk(i, x0, x2);
    if (i + 1 < NC) walk_chunk(i + 1, x1, x0);
    if (i + 2 < NC) walk_chunk(i + 2, x2, x1);
  }
  if (Backward) {  // dn0 and <dn0, n0> (a part of dm0; dstate_walk.cuh adds <dC0, C0>)
    if (owner && p.dn0) p.dn0[ncol] = n;
    if (owner && p.n0) {
      const double d = warp_sum(static_cast<double>(n) * p.n0[ncol]);
      if (tid % 32 == 0) atomicAdd(p.c0dot + bh, d);
    }
  } else {
    if (owner && p.n_last) p.n_last[ncol] = n;
    if (lead_m) {
      chunk_m[NC] = m_run;
      if (p.m_last) p.m_last[bh] = static_cast<float>(m_run);
    }
  }
}

template <class T>
void launch_norm_walk(const ChunkwiseParams& p, bool backward, cudaStream_t stream) {
  const int blocks = (p.DQK / kTile) * p.B * p.NH;
  if (backward) norm_walk_kernel<T, true><<<blocks, kNormWalkThreads, 0, stream>>>(p);
  else norm_walk_kernel<T, false><<<blocks, kNormWalkThreads, 0, stream>>>(p);
}

}  // namespace xlstm::kernels
