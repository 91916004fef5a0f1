// The implementations of xlstm::mlstm_conv_qkv{,_bw} behind the dispatcher (schemas in
// include/xlstm/ops.h): the argument checks every implementation runs first and the ATen
// implementation (the CPU kernels and the CUDA kernels' fallback).
#pragma once

#include <torch/torch.h>

#include <optional>
#include <tuple>

namespace xlstm::ops::detail {

using OptTensor = std::optional<torch::Tensor>;
using ConvQkvOut = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor>;
using ConvQkvBwOut = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor,
                                torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor>;

void check_conv_qkv_args(const char* op, const torch::Tensor& x, const torch::Tensor& conv_weight,
                         const OptTensor& conv_bias, const torch::Tensor& wq, const torch::Tensor& wk,
                         const torch::Tensor& wv, const OptTensor& bq, const OptTensor& bk, const OptTensor& bv);
void check_conv_qkv_grads(const char* op, const torch::Tensor& x, const OptTensor& dc, const torch::Tensor& dq,
                          const torch::Tensor& dk, const torch::Tensor& dv);

ConvQkvOut reference_conv_qkv(const torch::Tensor& x, const torch::Tensor& conv_weight, const OptTensor& conv_bias,
                              const torch::Tensor& wq, const torch::Tensor& wk, const torch::Tensor& wv,
                              const OptTensor& bq, const OptTensor& bk, const OptTensor& bv);
// Gradients by autograd through the ATen implementation.
ConvQkvBwOut reference_conv_qkv_bw(const OptTensor& dc, const torch::Tensor& dq, const torch::Tensor& dk,
                                   const torch::Tensor& dv, const torch::Tensor& x, const torch::Tensor& conv_weight,
                                   const OptTensor& conv_bias, const torch::Tensor& wq, const torch::Tensor& wk,
                                   const torch::Tensor& wv, const OptTensor& bq, const OptTensor& bk,
                                   const OptTensor& bv);

}  // namespace xlstm::ops::detail
