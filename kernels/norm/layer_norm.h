// Parameters and host entry points of the layer norm over the last dimension (layer_norm.cu), the
// pre-norm of every xLSTM block. Plain structs, no ATen: src/ops/layer_norm_cuda.cu.cpp fills them.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "common/dtype.h"

namespace xlstm::kernels {

// x and dx (rows, E) contiguous in dtype x_dtype; y and dy (rows, E) contiguous in y_dtype (x_dtype, or
// bf16 / fp16 for fp32 x); E % 4 == 0 and 16-byte aligned rows. weight, bias (E) fp32 or null; the
// scale is weight_offset + weight and both are rounded to x_dtype first (as the module casts them).
// mean, rstd (rows) fp32. partial (grid_rows, E) fp32: the backward's per-CTA sums of d(weight), added
// up by the caller in a fixed order (d(bias) is the column sum of dy).
struct LayerNormParams {
  DType x_dtype = DType::f32, y_dtype = DType::f32;
  int64_t rows = 0;
  int E = 0;
  float eps = 1e-5f, weight_offset = 0.f;
  const void* x = nullptr;
  const float* weight = nullptr;
  const float* bias = nullptr;
  void* y = nullptr;
  float* mean = nullptr;
  float* rstd = nullptr;
  const void* dy = nullptr;
  void* dx = nullptr;
  float* partial = nullptr;
  int grid_rows = 0;
};

constexpr int kLayerNormMaxE = 2048;
// The dtype pairs the kernels cover.
bool layer_norm_dtypes_supported(DType x, DType y);
// CTAs for `rows` rows on a GPU with `sms` multiprocessors.
int layer_norm_grid_rows(int64_t rows, int sms);
cudaError_t layer_norm_fw_cuda(const LayerNormParams& p, cudaStream_t stream);
cudaError_t layer_norm_bw_cuda(const LayerNormParams& p, cudaStream_t stream);

}  // namespace xlstm::kernels
