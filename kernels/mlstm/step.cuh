// One mLSTM generation step (kernels.md §1.8): grid DHV/32 column slices * B*NH, 256 threads.
//   m' = max(lf + m, i~), f' = exp(lf + m - m'), i' = exp(i~ - m'),
//   C' = f' C + i' k v^T,  n' = f' n + i' k,  h = C'^T q~ / (max(|q~ . n'|, exp(-m')) + eps).
// The step is pure state traffic (read and write C once, fp32): each thread streams float4 columns of
// C rows, 8 threads per row slice, and the column sums q~^T C' are reduced through shared memory. Every
// block recomputes q~ . n' (DQK values); the blocks of slice 0 write n' and m'. C' may be C (each
// element is read and written by one thread).
#pragma once

#include <cmath>

#include "mlstm/launch.h"
#include "mlstm/tile.cuh"

namespace xlstm::kernels {

constexpr int kStepThreads = 256, kStepCols = 32;

template <class T>
__global__ void __launch_bounds__(kStepThreads) step_kernel(StepParams p) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  float* qs = reinterpret_cast<float*>(smem_raw);  // DQK
  float* ks = qs + p.DQK;                           // DQK
  float* part = ks + p.DQK;                         // [32 row lanes][32 cols]
  float* red = part + 32 * kStepCols;               // 8

  const int tid = threadIdx.x, tiles = p.DHV / kStepCols;
  const int tile = blockIdx.x % tiles, bh = blockIdx.x / tiles;
  const T* q = static_cast<const T*>(p.q) + static_cast<int64_t>(bh) * p.DQK;
  const T* k = static_cast<const T*>(p.k) + static_cast<int64_t>(bh) * p.DQK;
  const T* v = static_cast<const T*>(p.v) + static_cast<int64_t>(bh) * p.DHV;
  for (int d = tid; d < p.DQK; d += kStepThreads) {
    qs[d] = to_float(q[d]) * p.scale;
    ks[d] = to_float(k[d]);
  }
  const float lf = logsigmoid(p.fgate[bh]), m = p.m[bh], ig = p.igate[bh];
  const float m_new = fmaxf(lf + m, ig);
  const float fp = expf(lf + m - m_new), ip = expf(ig - m_new);
  __syncthreads();

  float qn = 0.f;
  const float* n = p.n + static_cast<int64_t>(bh) * p.DQK;
  for (int d = tid; d < p.DQK; d += kStepThreads) {
    const float nn = fp * n[d] + ip * ks[d];
    qn += qs[d] * nn;
    if (tile == 0) p.n_new[static_cast<int64_t>(bh) * p.DQK + d] = nn;
  }
  qn = block_sum(qn, red);
  if (tile == 0 && tid == 0) p.m_new[bh] = m_new;

  const int cg = tid % 8, rl = tid / 8;
  const int col = tile * kStepCols + 4 * cg;
  float iv[4];
  for (int e = 0; e < 4; ++e) iv[e] = ip * to_float(v[col + e]);
  const int64_t base = static_cast<int64_t>(bh) * p.DQK * p.DHV + col;
  const float* c = p.c + base;
  float* cn = p.c_new + base;
  float acc[4] = {0.f, 0.f, 0.f, 0.f};
  // Rows rl, rl + 32, ... in batches of 8: all 8 loads are in flight before the first store.
  constexpr int kBatch = 8;
  for (int r0 = rl; r0 < p.DQK; r0 += 32 * kBatch) {
    float4 x[kBatch];
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int r = r0 + 32 * b;
      if (r < p.DQK) x[b] = *reinterpret_cast<const float4*>(c + static_cast<int64_t>(r) * p.DHV);
    }
#pragma unroll
    for (int b = 0; b < kBatch; ++b) {
      const int r = r0 + 32 * b;
      if (r >= p.DQK) break;
      const float kr = ks[r], qr = qs[r];
      x[b].x = fp * x[b].x + kr * iv[0];
      x[b].y = fp * x[b].y + kr * iv[1];
      x[b].z = fp * x[b].z + kr * iv[2];
      x[b].w = fp * x[b].w + kr * iv[3];
      *reinterpret_cast<float4*>(cn + static_cast<int64_t>(r) * p.DHV) = x[b];
      acc[0] += qr * x[b].x;
      acc[1] += qr * x[b].y;
      acc[2] += qr * x[b].z;
      acc[3] += qr * x[b].w;
    }
  }
  for (int e = 0; e < 4; ++e) part[rl * kStepCols + 4 * cg + e] = acc[e];
  __syncthreads();
  if (tid < kStepCols) {
    float s = 0.f;
    for (int l = 0; l < 32; ++l) s += part[l * kStepCols + tid];
    const float den = fmaxf(fabsf(qn), expf(-m_new)) + p.eps;
    static_cast<T*>(p.h)[static_cast<int64_t>(bh) * p.DHV + tile * kStepCols + tid] = from_float<T>(s / den);
  }
}

template <class T>
void launch_step(const StepParams& p, cudaStream_t stream) {
  const size_t smem = (2 * p.DQK + 32 * kStepCols + 8) * sizeof(float);
  if (smem > 48 * 1024)
    cudaFuncSetAttribute(step_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  step_kernel<T><<<(p.DHV / kStepCols) * p.B * p.NH, kStepThreads, smem, stream>>>(p);
}

}  // namespace xlstm::kernels
