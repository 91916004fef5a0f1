// Depthwise causal 1-D convolution over time (the reference's CausalConv1d, xlstm-spec.md §2.1):
//   y_t[d] = bias[d] + Σ_{j=0}^{K-1} w[d, 0, j] · x_{t-K+1+j}[d],   x_τ = 0 (or the carried state) for τ < 0.
// Parameters `conv.weight` (D, 1, K) and `conv.bias` (D), PyTorch cross-correlation convention.
// Kernel size 0 is the identity and has no parameters.
//
// State (xlstm/state.h): the K-1 inputs before the current chunk, (B, K-1, D), oldest first. Unlike
// the reference's step (which keeps K entries and mutates its argument), forward and step share this
// form and never modify their arguments.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <tuple>

namespace xlstm {

class CausalConv1dImpl : public torch::nn::Module {
 public:
  CausalConv1dImpl(int64_t feature_dim, int64_t kernel_size, bool bias = true);

  // U(-1/sqrt(K), 1/sqrt(K)) for weight and bias (PyTorch's Conv1d default, fan_in = K).
  void reset_parameters();

  // x (B, S, D), S >= 1; conv_state (B, K-1, D) or undefined (zeros), any floating dtype (cast to x's).
  // Returns y (B, S, D) and the new state = the last K-1 inputs of [conv_state, x] (B, K-1, D), in
  // x's dtype. K = 0: (x, undefined).
  std::tuple<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& conv_state = {});

  // The state forward(x, conv_state) returns, without the convolution (for callers that compute it
  // elsewhere, e.g. a fused op); a copy, so that it does not keep x's storage alive.
  torch::Tensor next_state(const torch::Tensor& x, const torch::Tensor& conv_state = {}) const;

  // One token, x (B, 1, D): the same contract as forward, computed as a dot product over the window.
  std::tuple<torch::Tensor, torch::Tensor> step(const torch::Tensor& x, const torch::Tensor& conv_state = {});

  int64_t feature_dim() const { return feature_dim_; }
  int64_t kernel_size() const { return kernel_size_; }

  torch::nn::Conv1d conv{nullptr};  // absent for K = 0

 private:
  // [conv_state (or zeros), x] along time, after checking shapes: (B, K-1+S, D).
  torch::Tensor window(const torch::Tensor& x, const torch::Tensor& conv_state) const;

  int64_t feature_dim_;
  int64_t kernel_size_;
};
TORCH_MODULE(CausalConv1d);

}  // namespace xlstm
