// Depthwise causal convolution with an explicit K-1 input state.
#include "xlstm/components/causal_conv1d.h"

#include <cmath>

namespace xlstm {

CausalConv1dImpl::CausalConv1dImpl(int64_t feature_dim, int64_t kernel_size, bool bias)
    : feature_dim_(feature_dim), kernel_size_(kernel_size) {
  TORCH_CHECK(feature_dim > 0, "CausalConv1d: feature_dim must be positive, got ", feature_dim);
  TORCH_CHECK(kernel_size >= 0, "CausalConv1d: kernel_size must be >= 0, got ", kernel_size);
  if (kernel_size == 0) return;
  conv = register_module(
      "conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(feature_dim, feature_dim, kernel_size)
                                    .groups(feature_dim)
                                    .padding(0)
                                    .bias(bias)));
  reset_parameters();
}

void CausalConv1dImpl::reset_parameters() {
  if (kernel_size_ == 0) return;
  const double bound = 1.0 / std::sqrt(static_cast<double>(kernel_size_));
  torch::NoGradGuard no_grad;
  conv->weight.uniform_(-bound, bound);
  if (conv->bias.defined()) conv->bias.uniform_(-bound, bound);
}

torch::Tensor CausalConv1dImpl::window(const torch::Tensor& x, const torch::Tensor& conv_state) const {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == feature_dim_, "CausalConv1d: expected x of shape (B, S, ",
              feature_dim_, "), got ", x.sizes());
  const int64_t batch = x.size(0), past = kernel_size_ - 1;
  if (!conv_state.defined()) return torch::cat({x.new_zeros({batch, past, feature_dim_}), x}, 1);
  TORCH_CHECK(conv_state.dim() == 3 && conv_state.size(0) == batch && conv_state.size(1) == past &&
                  conv_state.size(2) == feature_dim_,
              "CausalConv1d: expected conv_state of shape (", batch, ", ", past, ", ", feature_dim_, "), got ",
              conv_state.sizes());
  return torch::cat({conv_state.to(x.dtype()), x}, 1);
}

std::tuple<torch::Tensor, torch::Tensor> CausalConv1dImpl::forward(const torch::Tensor& x,
                                                                   const torch::Tensor& conv_state) {
  if (kernel_size_ == 0) return {x, torch::Tensor()};
  const auto xp = window(x, conv_state);  // (B, K-1+S, D)
  const int64_t seq = x.size(1), past = kernel_size_ - 1;
  auto y = conv->forward(xp.transpose(1, 2)).transpose(1, 2);  // (B, S, D)
  return {y, xp.narrow(1, seq, past)};
}

torch::Tensor CausalConv1dImpl::next_state(const torch::Tensor& x, const torch::Tensor& conv_state) const {
  if (kernel_size_ == 0) return torch::Tensor();
  const int64_t seq = x.size(1), past = kernel_size_ - 1;
  if (!conv_state.defined() && seq >= past) return x.narrow(1, seq - past, past).contiguous();
  return window(x, conv_state).narrow(1, seq, past).contiguous();
}

std::tuple<torch::Tensor, torch::Tensor> CausalConv1dImpl::step(const torch::Tensor& x,
                                                                const torch::Tensor& conv_state) {
  TORCH_CHECK(x.dim() == 3 && x.size(1) == 1, "CausalConv1d::step: expected x of shape (B, 1, D), got ", x.sizes());
  if (kernel_size_ == 0) return {x, torch::Tensor()};
  const auto xp = window(x, conv_state);                        // (B, K, D)
  const auto w = conv->weight.squeeze(1).t();                   // (K, D)
  auto y = (xp * w).sum(1, /*keepdim=*/true);                   // (B, 1, D)
  if (conv->bias.defined()) y = y + conv->bias;
  return {y, xp.narrow(1, 1, kernel_size_ - 1)};
}

}  // namespace xlstm
