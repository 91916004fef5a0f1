// The implementations of the sLSTM ops behind the dispatcher (schemas in include/xlstm/ops.h): the
// argument checks every implementation runs first, and the ATen implementation (the CPU kernels and
// the CUDA kernels' fallback).
#pragma once

#include <torch/torch.h>

#include <optional>
#include <tuple>

namespace xlstm::ops::detail {

using OptTensor = std::optional<torch::Tensor>;
using SlstmFwOut = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor>;
using SlstmBwOut = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor>;

void check_slstm_fw_args(const char* op, const torch::Tensor& wx, const torch::Tensor& R, const torch::Tensor& b,
                         const OptTensor& s0);
void check_slstm_bw_args(const char* op, const torch::Tensor& dy, const OptTensor& dstate_last,
                         const torch::Tensor& wx, const torch::Tensor& R, const torch::Tensor& b, const OptTensor& s0,
                         const torch::Tensor& y);

// The ATen loop (slstm_forward_reference); the caches stay empty.
SlstmFwOut reference_slstm_fw(const torch::Tensor& wx, const torch::Tensor& R, const torch::Tensor& b,
                              const OptTensor& s0, bool with_cache);

// Gradients by autograd through the ATen loop, recomputed from wx (the caches are not used).
SlstmBwOut reference_slstm_bw(const torch::Tensor& dy, const OptTensor& dstate_last, const torch::Tensor& wx,
                              const torch::Tensor& R, const torch::Tensor& b, const OptTensor& s0,
                              const torch::Tensor& y, const torch::Tensor& gates, const torch::Tensor& states);

// The same without the argument checks, for a caller that has run them (the CUDA kernels' fallback).
SlstmFwOut aten_slstm_fw(const torch::Tensor& wx, const torch::Tensor& R, const torch::Tensor& b,
                         const OptTensor& s0, bool with_cache);
SlstmBwOut aten_slstm_bw(const torch::Tensor& dy, const OptTensor& dstate_last, const torch::Tensor& wx,
                         const torch::Tensor& R, const torch::Tensor& b, const OptTensor& s0);

}  // namespace xlstm::ops::detail
