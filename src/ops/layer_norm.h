// The implementations of xlstm::layer_norm{,_bw} behind the dispatcher (schemas in include/xlstm/ops.h):
// the argument checks every implementation runs first and the ATen implementation (the CPU kernels and
// the CUDA kernels' fallback).
#pragma once

#include <torch/torch.h>

#include <optional>
#include <tuple>

namespace xlstm::ops::detail {

using LayerNormOut = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor>;
using LayerNormBwOut = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor>;
using OptTensor = std::optional<torch::Tensor>;

// The output dtype: out_dtype, or x's when absent.
torch::ScalarType layer_norm_out_dtype(const torch::Tensor& x, std::optional<torch::ScalarType> out_dtype);
void check_layer_norm_args(const char* op, const torch::Tensor& x, const OptTensor& weight, const OptTensor& bias,
                           std::optional<torch::ScalarType> out_dtype);
void check_layer_norm_bw_args(const char* op, const torch::Tensor& dy, const torch::Tensor& x, const OptTensor& weight,
                              const OptTensor& bias, const torch::Tensor& mean, const torch::Tensor& rstd);

LayerNormOut reference_layer_norm(const torch::Tensor& x, const OptTensor& weight, const OptTensor& bias,
                                  double weight_offset, double eps, std::optional<torch::ScalarType> out_dtype);
LayerNormBwOut reference_layer_norm_bw(const torch::Tensor& dy, const torch::Tensor& x, const OptTensor& weight,
                                       const OptTensor& bias, double weight_offset, const torch::Tensor& mean,
                                       const torch::Tensor& rstd);

}  // namespace xlstm::ops::detail
