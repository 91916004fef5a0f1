// The implementations of xlstm::mlstm_norm_skip_gate{,_bw} behind the dispatcher (schemas in
// include/xlstm/ops.h): the argument checks every implementation runs first and the ATen
// implementation (the CPU kernels and the CUDA kernels' fallback).
#pragma once

#include <torch/torch.h>

#include <tuple>

namespace xlstm::ops::detail {

using NormSkipGateOut = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor>;
using NormSkipGateBwOut = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor>;

void check_norm_skip_gate_args(const char* op, const torch::Tensor& h, const torch::Tensor& c, const torch::Tensor& z,
                               const torch::Tensor& norm_weight, const torch::Tensor& skip);
void check_norm_skip_gate_bw_args(const char* op, const torch::Tensor& dy, const torch::Tensor& h,
                                  const torch::Tensor& c, const torch::Tensor& z, const torch::Tensor& norm_weight,
                                  const torch::Tensor& skip, const torch::Tensor& mean, const torch::Tensor& rstd);

NormSkipGateOut reference_norm_skip_gate(const torch::Tensor& h, const torch::Tensor& c, const torch::Tensor& z,
                                         const torch::Tensor& norm_weight, const torch::Tensor& skip, double eps);
NormSkipGateBwOut reference_norm_skip_gate_bw(const torch::Tensor& dy, const torch::Tensor& h, const torch::Tensor& c,
                                              const torch::Tensor& z, const torch::Tensor& norm_weight,
                                              const torch::Tensor& skip, const torch::Tensor& mean,
                                              const torch::Tensor& rstd);

}  // namespace xlstm::ops::detail
