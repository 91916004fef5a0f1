// Parameters and host entry points of the row-wise cross-entropy kernels (cross_entropy.cu), the
// language-model loss. Plain structs, no ATen: src/ops/cross_entropy_cuda.cu.cpp checks the tensors
// and fills them.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "common/dtype.h"

namespace xlstm::kernels {

// logits (rows, vocab) with unit column stride and the given row stride; targets (rows) int64; loss,
// lse (rows) fp32 and predicted (rows) int64, contiguous (forward outputs); dloss (rows) fp32 and
// dlogits (rows, vocab) contiguous in the logits' dtype (backward).
struct CrossEntropyParams {
  DType dtype = DType::f32;
  int64_t rows = 0, vocab = 0, row_stride = 0;
  int64_t ignore_index = -100;
  const void* logits = nullptr;
  const int64_t* targets = nullptr;
  float* loss = nullptr;
  float* lse = nullptr;
  int64_t* predicted = nullptr;
  const float* dloss = nullptr;
  void* dlogits = nullptr;
};

constexpr int kCrossEntropyWarps = 8;  // rows per CTA: one warp each
cudaError_t cross_entropy_fw_cuda(const CrossEntropyParams& p, cudaStream_t stream);
cudaError_t cross_entropy_bw_cuda(const CrossEntropyParams& p, cudaStream_t stream);

}  // namespace xlstm::kernels
