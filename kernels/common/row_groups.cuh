// The row layout of the norm kernels (layer norm, the mLSTM layer's output norm) and the row
// reductions built on it: one warp per row, lane l owning the groups of channels 4l + 128j .. 4l + 128j
// + 3, so that each access is one 16-byte (fp32) or 8-byte (bf16, fp16) load or store and a warp covers
// 128 channels per group j. Rows must start 16-byte aligned (fp32) or 8-byte aligned (16-bit types).
#pragma once

#include "common/device.cuh"

namespace xlstm::kernels {

template <class T>
struct alignas(4 * sizeof(T)) Pack4 {
  T v[4];
};

template <class T>
__device__ __forceinline__ void load4(const T* p, float (&out)[4]) {
  const Pack4<T> r = *reinterpret_cast<const Pack4<T>*>(p);
#pragma unroll
  for (int i = 0; i < 4; ++i) out[i] = to_float(r.v[i]);
}

template <class T>
__device__ __forceinline__ void store4(T* p, const float (&v)[4]) {
  Pack4<T> r;
#pragma unroll
  for (int i = 0; i < 4; ++i) r.v[i] = from_float<T>(v[i]);
  *reinterpret_cast<Pack4<T>*>(p) = r;
}

template <class T>
__device__ __forceinline__ float rounded_to(float x) {
  return to_float(from_float<T>(x));
}

// The first channel of the lane's group j.
__device__ __forceinline__ int group_channel(int lane, int j) { return 4 * lane + 128 * j; }

// The lane's groups of one row as loaded (0 beyond n), unconverted: a row loaded ahead stays in this form
// until its turn, since a conversion in the iteration that issues the loads would wait for them there.
// Held as 32-bit words (sizeof(T) per group): as 16-bit members the compiler merges the halves into
// separate registers right after the load, which waits for it just the same.
template <class T, int J>
struct RawGroups {
  struct alignas(4 * sizeof(T)) Words {
    uint32_t w[sizeof(T)];
  } g[J];
};

template <class T, int J>
__device__ __forceinline__ void load_raw_groups(const T* row, int lane, int n, RawGroups<T, J>& out) {
  using Words = typename RawGroups<T, J>::Words;
#pragma unroll
  for (int j = 0; j < J; ++j) {
    const int c = group_channel(lane, j);
    out.g[j] = c < n ? *reinterpret_cast<const Words*>(row + c) : Words{};
  }
}

template <class T, int J>
__device__ __forceinline__ void to_floats(const RawGroups<T, J>& r, float (&v)[J][4]) {
#pragma unroll
  for (int j = 0; j < J; ++j) {
    Pack4<T> p;
    memcpy(&p, &r.g[j], sizeof p);
#pragma unroll
    for (int i = 0; i < 4; ++i) v[j][i] = to_float(p.v[i]);
  }
}

// The lane's channels of one row of n channels (0 beyond n).
template <class T, int J>
__device__ __forceinline__ void load_groups(const T* row, int lane, int n, float (&v)[J][4]) {
  RawGroups<T, J> r;
  load_raw_groups(row, lane, n, r);
  to_floats(r, v);
}

// The lane's groups of one row from v (those below n).
template <class T, int J>
__device__ __forceinline__ void store_groups(T* row, int lane, int n, const float (&v)[J][4]) {
#pragma unroll
  for (int j = 0; j < J; ++j)
    if (group_channel(lane, j) < n) store4(row + group_channel(lane, j), v[j]);
}

// The sum over a row of v's channels below n (in every lane).
template <int J>
__device__ __forceinline__ float row_sum(const float (&v)[J][4]) {
  float s = 0.f;
#pragma unroll
  for (int j = 0; j < J; ++j)
#pragma unroll
    for (int i = 0; i < 4; ++i) s += v[j][i];
  return warp_sum(s);
}

// The rows [r0, r1) of this CTA when the gridDim.x CTAs split `rows` into equal ranges.
__device__ __forceinline__ void cta_row_range(int64_t rows, int64_t& r0, int64_t& r1) {
  const int64_t per_cta = (rows + gridDim.x - 1) / gridDim.x;
  r0 = blockIdx.x * per_cta;
  r1 = r0 + per_cta < rows ? r0 + per_cta : rows;
}

// Mean and rstd = 1 / sqrt(biased variance + eps) of a row of n channels held as v (0 beyond n): two
// passes over the registers (the variance from the centred values).
template <int J>
__device__ __forceinline__ void row_stats(const float (&v)[J][4], int lane, int n, float eps, float& mean,
                                          float& rstd) {
  const float inv_n = 1.f / static_cast<float>(n);
  mean = row_sum(v) * inv_n;
  float sq = 0.f;
#pragma unroll
  for (int j = 0; j < J; ++j)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const float d = group_channel(lane, j) < n ? v[j][i] - mean : 0.f;
      sq += d * d;
    }
  rstd = rsqrtf(warp_sum(sq) * inv_n + eps);
}

// The gradient of a normalised row: from the normalised values xh and their gradient g (both 0 beyond
// n), g becomes rstd (g - mean(g) - xh mean(g xh)), the gradient of the row before normalisation.
template <int J>
__device__ __forceinline__ void normalise_backward(const float (&xh)[J][4], float (&g)[J][4], float rstd, int n) {
  float a = 0.f, b = 0.f;
#pragma unroll
  for (int j = 0; j < J; ++j)
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      a += g[j][i];
      b += g[j][i] * xh[j][i];
    }
  const float inv_n = 1.f / static_cast<float>(n);
  a = warp_sum(a) * inv_n;
  b = warp_sum(b) * inv_n;
#pragma unroll
  for (int j = 0; j < J; ++j)
#pragma unroll
    for (int i = 0; i < 4; ++i) g[j][i] = rstd * (g[j][i] - a - xh[j][i] * b);
}

// out[c] = the sum over the CTA's warps of their lanes' acc (channel group layout), for c < n, added
// warp after warp (a fixed order: bit-reproducible) through sum (128 J floats of shared memory). Every
// thread of the CTA calls it.
template <int J>
__device__ __forceinline__ void cta_column_sums(const float (&acc)[J][4], float* sum, float* out, int n) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  for (int w = 0; w < warps; ++w) {
    if (warp == w) {
#pragma unroll
      for (int j = 0; j < J; ++j)
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const int c = group_channel(lane, j) + i;
          sum[c] = (w == 0 ? 0.f : sum[c]) + acc[j][i];
        }
    }
    __syncthreads();
  }
  for (int c = threadIdx.x; c < n; c += blockDim.x) out[c] = sum[c];
  __syncthreads();  // sum may be reused
}

}  // namespace xlstm::kernels
