// Helpers shared by the CUDA op bindings (src/ops/*_cuda.cu.cpp): the kernels' dtype tag of a tensor
// and parameters as contiguous fp32.
#pragma once

#include <torch/torch.h>

#include <optional>

#include "common/dtype.h"

namespace xlstm::ops::detail {

inline kernels::DType kernel_dtype(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat16: return kernels::DType::f16;
    case torch::kBFloat16: return kernels::DType::bf16;
    default: return kernels::DType::f32;
  }
}

inline torch::Tensor f32_contiguous(const torch::Tensor& t) { return t.to(torch::kFloat32).contiguous(); }
// Undefined for an absent (or undefined) argument.
inline torch::Tensor f32_contiguous(const std::optional<torch::Tensor>& t) {
  return t && t->defined() ? f32_contiguous(*t) : torch::Tensor();
}

}  // namespace xlstm::ops::detail
