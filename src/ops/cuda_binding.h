// Helpers shared by the CUDA op bindings (src/ops/*_cuda.cu.cpp): the kernels' dtype tag of a tensor
// and the dtypes they cover, parameters as contiguous fp32, and 16-byte aligned data.
#pragma once

#include <torch/torch.h>

#include <optional>

#include "common/dtype.h"

namespace xlstm::ops::detail {

inline kernels::DType kernel_dtype(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat16: return kernels::DType::f16;
    case torch::kBFloat16: return kernels::DType::bf16;
    default: return kernels::DType::f32;
  }
}
inline kernels::DType kernel_dtype(const torch::Tensor& t) { return kernel_dtype(t.scalar_type()); }
// The dtypes the kernels cover (kernel_dtype maps every other one to f32: check first).
inline bool kernel_covers(torch::ScalarType t) {
  return t == torch::kFloat32 || t == torch::kFloat16 || t == torch::kBFloat16;
}

// t, or a contiguous copy where its data starts off a 16-byte boundary (the kernels' vector accesses).
inline torch::Tensor aligned16(const torch::Tensor& t) {
  return reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0 ? t : t.clone(at::MemoryFormat::Contiguous);
}

inline torch::Tensor f32_contiguous(const torch::Tensor& t) { return t.to(torch::kFloat32).contiguous(); }
// Undefined for an absent (or undefined) argument.
inline torch::Tensor f32_contiguous(const std::optional<torch::Tensor>& t) {
  return t && t->defined() ? f32_contiguous(*t) : torch::Tensor();
}

}  // namespace xlstm::ops::detail
