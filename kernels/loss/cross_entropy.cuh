// Cross-entropy of each row of a logits matrix against an integer target (the language-model loss):
//   lse = log Σ_j exp(x_j),  loss = lse − x_target,  predicted = argmax_j x_j (first of equal maxima),
//   backward: dx_j = dloss · (exp(x_j − lse) − [j = target]);  rows whose target is ignore_index: 0.
// ATen runs this on (tokens, vocabulary) blocks as a cast of the bf16 logits to fp32, a log_softmax
// whose fp32 output is kept for the backward, a gather and an argmax, and backward two more passes:
// at batch 16 × 2048 tokens × 50304 that is 6 GiB per fp32 copy. Here one warp owns one row: the
// forward reads it once (a running maximum with the sum of exponentials rescaled when the maximum
// grows, and the argmax, per lane; then merged across the warp with shuffles) and keeps two numbers
// per row; the backward reads it once more and writes the gradient in the logits' dtype. A row is
// read with lane l at elements l, l + 32, ... (coalesced; eight rows per CTA keep enough loads in
// flight). All arithmetic in fp32. A target outside [0, vocab) gives a NaN loss (the caller sees a
// non-finite loss; the kernel cannot throw).
// The kernel bodies use no CUDA feature beyond thread indices and warp shuffles, so
// tests/sim_fused_kernels.cpp also runs them on the CPU (tests/kernel_simulation.h).
#pragma once

#include <cmath>

#include "common/device.cuh"
#include "loss/cross_entropy.h"

namespace xlstm::kernels {
namespace {

// Merges the running (maximum, sum of exp(x − maximum), index of the maximum) of two lanes.
__device__ __forceinline__ void merge_softmax_stats(float& m, float& s, int64_t& j, float m2, float s2, int64_t j2) {
  if (m2 > m || (m2 == m && j2 < j)) {
    const float scale = m == -INFINITY ? 0.f : expf(m - m2);
    s = s * scale + s2;
    m = m2;
    j = j2;
  } else if (m2 != -INFINITY) {
    s += s2 * expf(m2 - m);
  }
}

__device__ __forceinline__ int64_t shfl_xor_index(int64_t v, int offset) {
  const int lo = __shfl_xor_sync(0xffffffffu, static_cast<int>(v & 0xffffffff), offset);
  const int hi = __shfl_xor_sync(0xffffffffu, static_cast<int>(v >> 32), offset);
  return (static_cast<int64_t>(hi) << 32) | static_cast<uint32_t>(lo);
}

template <class T>
__global__ void __launch_bounds__(kCrossEntropyWarps * 32) cross_entropy_fw_kernel(CrossEntropyParams p) {
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kCrossEntropyWarps + threadIdx.x / 32;
  if (row >= p.rows) return;  // the whole warp: no shuffle partner is missing
  const int64_t target = p.targets[row];
  if (target == p.ignore_index) {
    if (lane == 0) p.loss[row] = 0.f, p.lse[row] = 0.f, p.predicted[row] = -1;
    return;
  }
  const T* x = static_cast<const T*>(p.logits) + row * p.row_stride;
  float m = -INFINITY, s = 0.f;
  int64_t best = p.vocab;  // no element yet
#pragma unroll 4
  for (int64_t j = lane; j < p.vocab; j += 32) {
    const float v = to_float(x[j]);
    if (v > m) {
      s = s * (m == -INFINITY ? 0.f : expf(m - v)) + 1.f;
      m = v;
      best = j;
    } else {
      s += expf(v - m);  // NaN logits make s NaN: the loss shows it
    }
  }
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const float m2 = __shfl_xor_sync(0xffffffffu, m, o), s2 = __shfl_xor_sync(0xffffffffu, s, o);
    merge_softmax_stats(m, s, best, m2, s2, shfl_xor_index(best, o));
  }
  if (lane == 0) {
    const float lse = m + logf(s);
    const bool valid = target >= 0 && target < p.vocab;
    p.lse[row] = lse;
    p.loss[row] = valid ? lse - to_float(x[valid ? target : 0]) : NAN;
    p.predicted[row] = best < p.vocab ? best : 0;
  }
}

template <class T>
__global__ void __launch_bounds__(kCrossEntropyWarps * 32) cross_entropy_bw_kernel(CrossEntropyParams p) {
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kCrossEntropyWarps + threadIdx.x / 32;
  if (row >= p.rows) return;
  const int64_t target = p.targets[row];
  T* dx = static_cast<T*>(p.dlogits) + row * p.vocab;
  if (target == p.ignore_index) {
    for (int64_t j = lane; j < p.vocab; j += 32) dx[j] = from_float<T>(0.f);
    return;
  }
  const T* x = static_cast<const T*>(p.logits) + row * p.row_stride;
  const float g = p.dloss[row], lse = p.lse[row];
#pragma unroll 4
  for (int64_t j = lane; j < p.vocab; j += 32)
    dx[j] = from_float<T>(g * (expf(to_float(x[j]) - lse) - (j == target ? 1.f : 0.f)));
}

}  // namespace
}  // namespace xlstm::kernels
