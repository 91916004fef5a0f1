// The implementations of xlstm::cross_entropy_rows{,_bw,_bw_} behind the dispatcher (schemas in
// include/xlstm/ops.h): the argument checks every implementation runs first and the ATen
// implementation (the CPU kernels and the CUDA kernels' fallback).
#pragma once

#include <torch/torch.h>

#include <tuple>

namespace xlstm::ops::detail {

using CrossEntropyOut = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor>;

void check_cross_entropy_args(const char* op, const torch::Tensor& logits, const torch::Tensor& targets);
void check_cross_entropy_bw_args(const char* op, const torch::Tensor& dloss, const torch::Tensor& logits,
                                 const torch::Tensor& targets, const torch::Tensor& lse);

// grad_into_logits only matters to the autograd kernel (cross_entropy.cpp).
CrossEntropyOut reference_cross_entropy_rows(const torch::Tensor& logits, const torch::Tensor& targets,
                                             int64_t ignore_index, bool grad_into_logits);
torch::Tensor reference_cross_entropy_rows_bw(const torch::Tensor& dloss, const torch::Tensor& logits,
                                              const torch::Tensor& targets, const torch::Tensor& lse,
                                              int64_t ignore_index);
torch::Tensor& reference_cross_entropy_rows_bw_(torch::Tensor& logits, const torch::Tensor& dloss,
                                                const torch::Tensor& targets, const torch::Tensor& lse,
                                                int64_t ignore_index);

}  // namespace xlstm::ops::detail
