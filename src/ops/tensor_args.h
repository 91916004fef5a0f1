// Small argument helpers shared by the op implementations (src/ops/).
#pragma once

#include <torch/torch.h>

#include <optional>

namespace xlstm::ops::detail {

// An undefined tensor as an absent optional argument.
inline std::optional<torch::Tensor> opt(const torch::Tensor& t) {
  return t.defined() ? std::optional<torch::Tensor>(t) : std::nullopt;
}

// A defined tensor of a floating dtype.
inline bool is_float(const torch::Tensor& t) { return t.defined() && at::isFloatingType(t.scalar_type()); }

// A tensor's sizes for an error message (empty when undefined).
inline c10::IntArrayRef sizes_of(const torch::Tensor& t) { return t.defined() ? t.sizes() : c10::IntArrayRef{}; }

// The dtype the ATen implementations of the fused layer ops compute in: fp64 for fp64 inputs, else fp32.
inline torch::ScalarType aten_compute_dtype(const torch::Tensor& t) {
  return t.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

}  // namespace xlstm::ops::detail
