// Layer norm over the last dimension (xlstm-spec.md §1.3: the blocks' pre-norms, scale 1 + weight):
//   y = (x - mean) * rstd * scale + bias,  rstd = 1 / sqrt(var + eps)
// computed in fp32 with y written in its own dtype: under autocast the residual stream x is fp32 and
// the norm's consumer (a Linear) casts y to bf16, so writing bf16 here saves the fp32 output and the
// cast's pass (ATen's layer norm and the cast cost ~0.4 ms per norm at B16 S2048 E768; the floor is
// ~0.05 ms forward). One warp per row, rows walked by the warps of a CTA; lane l owns the channel
// groups 4l + 128j .. 4l + 128j + 3 (common/row_groups.cuh: one 16-byte fp32 or 8-byte bf16 access each), so
// a row of E channels needs J = ceil(E / 128) groups in registers. The forward loads a row ahead (before
// the current row's stores, which the compiler may not move loads past; unconverted until its turn) and
// keeps the statistics for the backward; the backward recomputes the normalised row from them, sums
// d(weight) per lane, then per CTA in a fixed warp order into one slice per CTA (no atomics:
// bit-reproducible). d(bias) is the column sum of dy, left to the caller.
// The kernel bodies use no CUDA feature beyond thread indices, warp shuffles, __shared__ and
// __syncthreads, so tests/sim_fused_kernels.cpp also runs them on the CPU (tests/kernel_simulation.h).
#pragma once

#include "common/row_groups.cuh"
#include "norm/layer_norm.h"

namespace xlstm::kernels {
namespace {

constexpr int kLnWarps = 4;

// The scale weight_offset + weight of channels c .. c + 3, rounded to X (1 without a weight). Read-only
// loads (L1-resident after the first row), which the compiler may move past the row's stores.
template <class X>
__device__ __forceinline__ void scale4(const LayerNormParams& p, int c, float (&scale)[4]) {
#pragma unroll
  for (int i = 0; i < 4; ++i) scale[i] = p.weight != nullptr ? rounded_to<X>(p.weight_offset + __ldg(p.weight + c + i)) : 1.f;
}

template <class X, class Y, int J>
__global__ void __launch_bounds__(kLnWarps * 32) layer_norm_fw_kernel(LayerNormParams p) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, E = p.E;
  int64_t r0, r1;
  cta_row_range(p.rows, r0, r1);
  const X* xs = static_cast<const X*>(p.x);
  RawGroups<X, J> cur{};
  if (r0 + warp < r1) load_raw_groups(xs + (r0 + warp) * E, lane, E, cur);
  for (int64_t r = r0 + warp; r < r1; r += kLnWarps) {
    RawGroups<X, J> next{};
    if (r + kLnWarps < r1) load_raw_groups(xs + (r + kLnWarps) * E, lane, E, next);
    float x[J][4];
    to_floats(cur, x);
    float mean, rstd;
    row_stats(x, lane, E, p.eps, mean, rstd);
    Y* y = static_cast<Y*>(p.y) + r * E;
#pragma unroll
    for (int j = 0; j < J; ++j) {
      const int c = group_channel(lane, j);
      if (c >= E) continue;
      float scale[4], out[4];
      scale4<X>(p, c, scale);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        out[i] = (x[j][i] - mean) * rstd * scale[i];
        if (p.bias != nullptr) out[i] += rounded_to<X>(__ldg(p.bias + c + i));
      }
      store4(y + c, out);
    }
    if (lane == 0) {
      p.mean[r] = mean;
      p.rstd[r] = rstd;
    }
    cur = next;
  }
}

template <class X, class Y, int J>
__global__ void __launch_bounds__(kLnWarps * 32) layer_norm_bw_kernel(LayerNormParams p) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, E = p.E;
  int64_t r0, r1;
  cta_row_range(p.rows, r0, r1);
  float acc[J][4] = {};
  for (int64_t r = r0 + warp; r < r1; r += kLnWarps) {
    // xh: x, then its normalised value; g: dy, then the gradient of the normalised x, then dx.
    float xh[J][4], g[J][4];
    load_groups<X, J>(static_cast<const X*>(p.x) + r * E, lane, E, xh);
    load_groups<Y, J>(static_cast<const Y*>(p.dy) + r * E, lane, E, g);
    const float mean = p.mean[r], rstd = p.rstd[r];
#pragma unroll
    for (int j = 0; j < J; ++j) {
      const int c = group_channel(lane, j);
      float scale[4] = {0.f, 0.f, 0.f, 0.f};
      if (c < E) scale4<X>(p, c, scale);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        xh[j][i] = c < E ? (xh[j][i] - mean) * rstd : 0.f;
        acc[j][i] += g[j][i] * xh[j][i];
        g[j][i] *= scale[i];
      }
    }
    normalise_backward(xh, g, rstd, E);
    store_groups<X, J>(static_cast<X*>(p.dx) + r * E, lane, E, g);
  }
  __shared__ float sum[128 * J];
  cta_column_sums(acc, sum, p.partial + static_cast<int64_t>(blockIdx.x) * E, E);
}

}  // namespace
}  // namespace xlstm::kernels
