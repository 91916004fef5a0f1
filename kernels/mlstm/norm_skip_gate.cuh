// The output path of the NeurIPS mLSTM layer in one pass over memory (xlstm-spec.md §2.3-2.4):
//   y = (GroupNorm_NH(h) * (1 + norm_weight) + skip * c) * silu(z)
// with h the cell output (B, NH, S, DH), c the convolved input after SiLU and z the gate half of the
// up-projection. ATen runs this as a transpose copy, a group norm in fp32 and four pointwise kernels
// (and about twice that backward); here one warp handles one (token, head) row of DH channels in the
// channel-group layout of common/row_groups.cuh (lane l owns channels 4l + 128j .. + 3: one vector
// access per group, J = ceil(DH / 128) groups), reduces mean and variance with shuffles and writes y
// once. The forward loads the next row before the current row's stores (which the compiler may not move
// loads past) and converts it only in its own iteration (common/row_groups.cuh: RawGroups); the backward
// recomputes the normalised values from the saved mean and rstd, sums the parameter gradients per lane,
// then per CTA in a fixed warp order into one slice per CTA (no atomics: the result is bit-reproducible).
// A CTA covers one head (blockIdx.y) and a contiguous range of tokens, so its lanes own fixed channels.
// Statistics and all arithmetic in fp32; y, dh, dc, dz in the input dtype.
// v2 (a lane per channel l + 32j, 2-byte accesses, no look-ahead) ran at ~1.7x its memory floor.
// The kernel bodies use no CUDA feature beyond thread indices, warp shuffles, __shared__ and
// __syncthreads, so tests/sim_fused_kernels.cpp also runs them on the CPU (tests/kernel_simulation.h).
#pragma once

#include "common/row_groups.cuh"
#include "mlstm/norm_skip_gate.h"

namespace xlstm::kernels {
namespace {

constexpr int kWarps = 4;

// Start of the (token r, head hd) row of a (B, NH, S, DH) tensor.
__device__ __forceinline__ int64_t head_row(const NormSkipGateParams& p, int64_t r, int hd) {
  const int64_t b = r / p.S, s = r - b * p.S;
  return ((b * p.NH + hd) * p.S + s) * p.DH;
}

// The scale 1 + norm_weight and the skip weight of channels c .. c + 3 of head hd (read-only loads,
// L1-resident after the first row, which the compiler may move past the row's stores).
__device__ __forceinline__ void channel_parameters(const NormSkipGateParams& p, int hd, int c, float (&w1)[4],
                                                   float (&sk)[4]) {
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    w1[i] = 1.f + __ldg(p.norm_weight + hd * p.DH + c + i);
    sk[i] = __ldg(p.skip + hd * p.DH + c + i);
  }
}

// One (token, head) row's inputs: h, c, z, as loaded (RawRow) and in fp32 (RowIn).
template <class T, int J>
struct RawRow {
  RawGroups<T, J> h, c, z;
};

template <int J>
struct RowIn {
  float h[J][4], c[J][4], z[J][4];
};

template <class T, int J>
__device__ __forceinline__ void load_raw_row(const NormSkipGateParams& p, int64_t r, int hd, int lane,
                                             RawRow<T, J>& in) {
  load_raw_groups(static_cast<const T*>(p.h) + head_row(p, r, hd), lane, p.DH, in.h);
  load_raw_groups(static_cast<const T*>(p.c) + r * p.c_row + hd * p.DH, lane, p.DH, in.c);
  load_raw_groups(static_cast<const T*>(p.z) + r * p.z_row + hd * p.DH, lane, p.DH, in.z);
}

template <class T, int J>
__device__ __forceinline__ RowIn<J> row_values(const RawRow<T, J>& raw) {
  RowIn<J> in;
  to_floats(raw.h, in.h);
  to_floats(raw.c, in.c);
  to_floats(raw.z, in.z);
  return in;
}

template <class T, int J>
__device__ __forceinline__ void load_row(const NormSkipGateParams& p, int64_t r, int hd, int lane, RowIn<J>& in) {
  RawRow<T, J> raw;
  load_raw_row(p, r, hd, lane, raw);
  in = row_values(raw);
}

template <class T, int J>
__global__ void __launch_bounds__(kWarps * 32) norm_skip_gate_fw_kernel(NormSkipGateParams p) {
  const int hd = blockIdx.y, lane = threadIdx.x & 31, warp = threadIdx.x >> 5, DH = p.DH;
  const int64_t Di = static_cast<int64_t>(p.NH) * DH;
  int64_t r0, r1;
  cta_row_range(static_cast<int64_t>(p.B) * p.S, r0, r1);
  RawRow<T, J> cur{};
  if (r0 + warp < r1) load_raw_row(p, r0 + warp, hd, lane, cur);
  for (int64_t r = r0 + warp; r < r1; r += kWarps) {
    RawRow<T, J> next{};
    if (r + kWarps < r1) load_raw_row(p, r + kWarps, hd, lane, next);
    const RowIn<J> in = row_values(cur);
    float mean, rstd;
    row_stats(in.h, lane, DH, p.eps, mean, rstd);
    T* y = static_cast<T*>(p.y) + r * Di + hd * DH;
#pragma unroll
    for (int j = 0; j < J; ++j) {
      const int c = group_channel(lane, j);
      if (c >= DH) continue;
      float w1[4], sk[4], out[4];
      channel_parameters(p, hd, c, w1, sk);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const float pre = (in.h[j][i] - mean) * rstd * w1[i] + sk[i] * in.c[j][i];
        out[i] = pre * in.z[j][i] * sigmoid(in.z[j][i]);
      }
      store4(y + c, out);
    }
    if (lane == 0) {
      p.mean[r * p.NH + hd] = mean;
      p.rstd[r * p.NH + hd] = rstd;
    }
    cur = next;
  }
}

template <class T, int J>
__global__ void __launch_bounds__(kWarps * 32) norm_skip_gate_bw_kernel(NormSkipGateParams p) {
  const int hd = blockIdx.y, lane = threadIdx.x & 31, warp = threadIdx.x >> 5, DH = p.DH;
  const int64_t Di = static_cast<int64_t>(p.NH) * DH;
  int64_t r0, r1;
  cta_row_range(static_cast<int64_t>(p.B) * p.S, r0, r1);
  float acc_w[J][4] = {}, acc_s[J][4] = {};
  for (int64_t r = r0 + warp; r < r1; r += kWarps) {
    // in.h: h, then its normalised value; g: dy, then the gradient of the normalised h, then dh.
    RowIn<J> in;
    float g[J][4];
    load_row<T>(p, r, hd, lane, in);
    load_groups<T, J>(static_cast<const T*>(p.dy) + r * Di + hd * DH, lane, DH, g);
    const float mean = p.mean[r * p.NH + hd], rstd = p.rstd[r * p.NH + hd];
    T* dc = static_cast<T*>(p.dc) + r * p.dc_row + hd * DH;
    T* dz = static_cast<T*>(p.dz) + r * p.dz_row + hd * DH;
#pragma unroll
    for (int j = 0; j < J; ++j) {
      const int c = group_channel(lane, j);
      float w1[4] = {0.f, 0.f, 0.f, 0.f}, sk[4] = {0.f, 0.f, 0.f, 0.f}, dcv[4], dzv[4];
      if (c < DH) channel_parameters(p, hd, c, w1, sk);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const float xh = c < DH ? (in.h[j][i] - mean) * rstd : 0.f;
        const float zf = in.z[j][i], sg = sigmoid(zf), dy = g[j][i];
        const float gp = dy * zf * sg;  // d(pre)
        const float pre = xh * w1[i] + sk[i] * in.c[j][i];
        dzv[i] = dy * pre * sg * (1.f + zf * (1.f - sg));
        dcv[i] = gp * sk[i];
        acc_w[j][i] += gp * xh;
        acc_s[j][i] += gp * in.c[j][i];
        in.h[j][i] = xh;
        g[j][i] = gp * w1[i];
      }
      if (c < DH) {
        store4(dz + c, dzv);
        store4(dc + c, dcv);
      }
    }
    normalise_backward(in.h, g, rstd, DH);
    store_groups<T, J>(static_cast<T*>(p.dh) + head_row(p, r, hd), lane, DH, g);
  }
  // The CTA's parameter-gradient sums into its slice of partial: d(norm_weight), then d(skip).
  __shared__ float sum[128 * J];
  float* out = p.partial + static_cast<int64_t>(blockIdx.x) * 2 * Di + hd * DH;
  cta_column_sums(acc_w, sum, out, DH);
  cta_column_sums(acc_s, sum, out + Di, DH);
}

}  // namespace
}  // namespace xlstm::kernels
