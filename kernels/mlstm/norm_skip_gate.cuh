// The output path of the NeurIPS mLSTM layer in one pass over memory (xlstm-spec.md §2.3-2.4):
//   y = (GroupNorm_NH(h) * (1 + norm_weight) + skip * c) * silu(z)
// with h the cell output (B, NH, S, DH), c the convolved input after SiLU and z the gate half of the
// up-projection. ATen runs this as a transpose copy, a group norm in fp32 and four pointwise kernels
// (and about twice that backward); here one warp handles one (token, head) row of DH channels, keeps
// its values in registers (lane l owns channels l, l + 32, ..., so DH <= 32 J), reduces mean and
// variance with shuffles and writes y once. The backward recomputes the normalised values from the
// saved mean and rstd; the parameter gradients are summed per warp in registers, then per CTA in a
// fixed warp order into one slice per CTA (no atomics: the result is bit-reproducible). A CTA covers
// one head (blockIdx.y) and a contiguous range of tokens, so its lanes own fixed channels. Statistics
// and all arithmetic in fp32; y, dh, dc, dz in the input dtype.
// The kernel bodies use no CUDA feature beyond thread indices, warp shuffles and __syncthreads, so
// tests/sim_fused_kernels.cpp also runs them on the CPU (tests/kernel_simulation.h).
#pragma once

#include "common/device.cuh"
#include "mlstm/norm_skip_gate.h"

namespace xlstm::kernels {
namespace {

constexpr int kWarps = 8;

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// The tokens [r0, r1) of this CTA.
__device__ __forceinline__ void cta_rows(const NormSkipGateParams& p, int64_t& r0, int64_t& r1) {
  const int64_t rows = static_cast<int64_t>(p.B) * p.S;
  const int64_t per_cta = (rows + gridDim.x - 1) / gridDim.x;
  r0 = blockIdx.x * per_cta;
  r1 = r0 + per_cta < rows ? r0 + per_cta : rows;
}

// Start of the (token r, head hd) row of a (B, NH, S, DH) tensor.
__device__ __forceinline__ int64_t head_row(const NormSkipGateParams& p, int64_t r, int hd) {
  const int64_t b = r / p.S, s = r - b * p.S;
  return ((b * p.NH + hd) * p.S + s) * p.DH;
}

// The scale 1 + norm_weight and the skip weight of the lane's channels of head hd (0 beyond DH).
template <int J>
__device__ __forceinline__ void lane_parameters(const NormSkipGateParams& p, int hd, int lane, float (&w1)[J],
                                                float (&sk)[J]) {
#pragma unroll
  for (int j = 0; j < J; ++j) {
    const int ch = lane + 32 * j;
    w1[j] = ch < p.DH ? 1.f + p.norm_weight[hd * p.DH + ch] : 0.f;
    sk[j] = ch < p.DH ? p.skip[hd * p.DH + ch] : 0.f;
  }
}

// The lane's channels of one row (0 beyond DH). Every load of a row is issued before the row's stores:
// the compiler may not move a load past a store to memory that could alias it, so loads interleaved
// with stores would cost one memory latency per channel group instead of one per row.
template <class T, int J>
__device__ __forceinline__ void load_row(const T* row, int lane, int DH, float (&v)[J]) {
#pragma unroll
  for (int j = 0; j < J; ++j) {
    const int ch = lane + 32 * j;
    v[j] = ch < DH ? to_float(row[ch]) : 0.f;
  }
}

template <class T, int J>
__global__ void __launch_bounds__(kWarps * 32) norm_skip_gate_fw_kernel(NormSkipGateParams p) {
  const int hd = blockIdx.y, lane = threadIdx.x & 31, warp = threadIdx.x >> 5, DH = p.DH;
  const int64_t Di = static_cast<int64_t>(p.NH) * DH;
  int64_t r0, r1;
  cta_rows(p, r0, r1);
  float w1[J], sk[J];
  lane_parameters<J>(p, hd, lane, w1, sk);
  const float inv_dh = 1.f / static_cast<float>(DH);
  for (int64_t r = r0 + warp; r < r1; r += kWarps) {
    float x[J], cv[J], zv[J], sum = 0.f;
    load_row<T, J>(static_cast<const T*>(p.h) + head_row(p, r, hd), lane, DH, x);
    load_row<T, J>(static_cast<const T*>(p.c) + r * p.c_row + hd * DH, lane, DH, cv);
    load_row<T, J>(static_cast<const T*>(p.z) + r * p.z_row + hd * DH, lane, DH, zv);
#pragma unroll
    for (int j = 0; j < J; ++j) sum += x[j];
    const float mean = warp_sum(sum) * inv_dh;
    float sq = 0.f;
#pragma unroll
    for (int j = 0; j < J; ++j) {
      const float d = lane + 32 * j < DH ? x[j] - mean : 0.f;
      sq += d * d;
    }
    const float rstd = rsqrtf(warp_sum(sq) * inv_dh + p.eps);
    T* y = static_cast<T*>(p.y) + r * Di + hd * DH;
#pragma unroll
    for (int j = 0; j < J; ++j) {
      const int ch = lane + 32 * j;
      if (ch < DH) {
        const float pre = (x[j] - mean) * rstd * w1[j] + sk[j] * cv[j];
        y[ch] = from_float<T>(pre * zv[j] * sigmoid(zv[j]));
      }
    }
    if (lane == 0) {
      p.mean[r * p.NH + hd] = mean;
      p.rstd[r * p.NH + hd] = rstd;
    }
  }
}

template <class T, int J>
__global__ void __launch_bounds__(kWarps * 32) norm_skip_gate_bw_kernel(NormSkipGateParams p) {
  const int hd = blockIdx.y, lane = threadIdx.x & 31, warp = threadIdx.x >> 5, DH = p.DH;
  const int64_t Di = static_cast<int64_t>(p.NH) * DH;
  int64_t r0, r1;
  cta_rows(p, r0, r1);
  float w1[J], sk[J], acc_w[J], acc_s[J];
  lane_parameters<J>(p, hd, lane, w1, sk);
#pragma unroll
  for (int j = 0; j < J; ++j) acc_w[j] = acc_s[j] = 0.f;
  const float inv_dh = 1.f / static_cast<float>(DH);
  for (int64_t r = r0 + warp; r < r1; r += kWarps) {
    const int64_t hrow = head_row(p, r, hd);
    // xh: h, then its normalised value; dxh: dy, then d(normalised h).
    float xh[J], cv[J], zv[J], dxh[J], a = 0.f, b = 0.f;
    load_row<T, J>(static_cast<const T*>(p.h) + hrow, lane, DH, xh);
    load_row<T, J>(static_cast<const T*>(p.c) + r * p.c_row + hd * DH, lane, DH, cv);
    load_row<T, J>(static_cast<const T*>(p.z) + r * p.z_row + hd * DH, lane, DH, zv);
    load_row<T, J>(static_cast<const T*>(p.dy) + r * Di + hd * DH, lane, DH, dxh);
    const float mean = p.mean[r * p.NH + hd], rstd = p.rstd[r * p.NH + hd];
    T* dc = static_cast<T*>(p.dc) + r * p.dc_row + hd * DH;
    T* dz = static_cast<T*>(p.dz) + r * p.dz_row + hd * DH;
#pragma unroll
    for (int j = 0; j < J; ++j) {
      const int ch = lane + 32 * j;
      if (ch < DH) {
        xh[j] = (xh[j] - mean) * rstd;
        const float zf = zv[j], sg = sigmoid(zf), dyf = dxh[j];
        const float g = dyf * zf * sg;  // d(pre)
        const float pre = xh[j] * w1[j] + sk[j] * cv[j];
        dz[ch] = from_float<T>(dyf * pre * sg * (1.f + zf * (1.f - sg)));
        dc[ch] = from_float<T>(g * sk[j]);
        acc_w[j] += g * xh[j];
        acc_s[j] += g * cv[j];
        dxh[j] = g * w1[j];
        a += dxh[j];
        b += dxh[j] * xh[j];
      } else {
        xh[j] = dxh[j] = 0.f;
      }
    }
    a = warp_sum(a) * inv_dh;
    b = warp_sum(b) * inv_dh;
    T* dh = static_cast<T*>(p.dh) + hrow;
#pragma unroll
    for (int j = 0; j < J; ++j) {
      const int ch = lane + 32 * j;
      if (ch < DH) dh[ch] = from_float<T>(rstd * (dxh[j] - a - xh[j] * b));
    }
  }
  // The CTA's parameter-gradient sums, warp after warp (a fixed order), into its slice of partial.
  __shared__ float sum[2][32 * J];
  for (int w = 0; w < kWarps; ++w) {
    if (warp == w) {
#pragma unroll
      for (int j = 0; j < J; ++j) {
        sum[0][lane + 32 * j] = (w == 0 ? 0.f : sum[0][lane + 32 * j]) + acc_w[j];
        sum[1][lane + 32 * j] = (w == 0 ? 0.f : sum[1][lane + 32 * j]) + acc_s[j];
      }
    }
    __syncthreads();
  }
  float* out = p.partial + static_cast<int64_t>(blockIdx.x) * 2 * Di + hd * DH;
  for (int ch = threadIdx.x; ch < DH; ch += kWarps * 32) {
    out[ch] = sum[0][ch];
    out[Di + ch] = sum[1][ch];
  }
}

}  // namespace
}  // namespace xlstm::kernels
