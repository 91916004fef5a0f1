// LayerNorm / MultiHeadLayerNorm (NeurIPS, weight offset) and RMSNorm / MultiHeadLayerNorm (xLSTM-Large).
#include "xlstm/components/norms.h"

#include <ATen/autocast_mode.h>

#include "xlstm/ops.h"

namespace xlstm {

namespace {

// x · weight (+ bias), parameters cast to x's dtype (the xLSTM-Large norms apply them after the cast back).
torch::Tensor apply_weight_bias(torch::Tensor x, const torch::Tensor& weight, const torch::Tensor& bias) {
  if (weight.defined()) x = x * weight.to(x.scalar_type());
  if (bias.defined()) x = x + bias.to(x.scalar_type());
  return x;
}

torch::Tensor reduction_input(const torch::Tensor& x, bool force_float32) {
  return force_float32 ? x.to(torch::kFloat32) : x;
}

}  // namespace

// ------------------------------------------------------------------------------------------ NeurIPS

LayerNormImpl::LayerNormImpl(int64_t ndim, bool weight, bool bias, double eps) : ndim_(ndim), eps_(eps) {
  TORCH_CHECK(ndim > 0, "LayerNorm: ndim must be positive, got ", ndim);
  if (weight) this->weight = register_parameter("weight", torch::empty({ndim}));
  if (bias) this->bias = register_parameter("bias", torch::empty({ndim}));
  reset_parameters();
}

void LayerNormImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  if (weight.defined()) weight.zero_();
  if (bias.defined()) bias.zero_();
}

torch::Tensor LayerNormImpl::scale(const torch::Tensor& like) const {
  return weight.defined() ? (1.0 + weight).to(like.scalar_type()) : torch::Tensor();
}

torch::Tensor LayerNormImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() >= 1 && x.size(-1) == ndim_, "LayerNorm: expected input (..., ", ndim_, "), got ", x.sizes());
  // The op on CUDA where it returns what ATen would: without autocast in x's dtype; under autocast
  // (which runs layer_norm in fp32) for fp32 x, in fp32 or, feeding a Linear, in the autocast dtype.
  const auto device = x.device().type();
  const bool autocast = at::autocast::is_autocast_enabled(device);
  if (!autocast || x.scalar_type() == torch::kFloat32) {
    const auto out = autocast && feeds_linear_ ? at::autocast::get_autocast_dtype(device) : x.scalar_type();
    if (auto y = ops::layer_norm_on_device(x, weight, bias, 1.0, eps_, out)) return *y;
  }
  const auto b = bias.defined() ? bias.to(x.scalar_type()) : torch::Tensor();
  return torch::layer_norm(x, {ndim_}, scale(x), b, eps_);
}

torch::Tensor MultiHeadLayerNormImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) * x.size(3) == ndim_,
              "MultiHeadLayerNorm: expected input (B, NH, S, DH) with NH*DH = ", ndim_, ", got ", x.sizes());
  const int64_t batch = x.size(0), heads = x.size(1), seq = x.size(2);
  const auto flat = x.transpose(1, 2).reshape({batch * seq, ndim_});
  const auto b = bias.defined() ? bias.to(x.scalar_type()) : torch::Tensor();
  return torch::group_norm(flat, heads, scale(x), b, eps_).view({batch, seq, ndim_});
}

// ------------------------------------------------------------------------------------------ xLSTM-Large

RMSNormImpl::RMSNormImpl(int64_t ndim, double eps, bool use_weight, bool use_bias, bool force_float32_reductions,
                         const torch::TensorOptions& options)
    : ndim_(ndim), eps_(eps), force_float32_reductions_(force_float32_reductions) {
  TORCH_CHECK(ndim > 0, "RMSNorm: ndim must be positive, got ", ndim);
  if (use_weight) weight = register_parameter("weight", torch::empty({ndim}, options));
  if (use_bias) bias = register_parameter("bias", torch::empty({ndim}, options));
  reset_parameters();
}

void RMSNormImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  if (weight.defined()) weight.fill_(1.0);
  if (bias.defined()) bias.zero_();
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() >= 1 && x.size(-1) == ndim_, "RMSNorm: expected input (..., ", ndim_, "), got ", x.sizes());
  const auto xr = reduction_input(x, force_float32_reductions_);
  const auto normed = xr * torch::rsqrt(xr.square().mean(-1, /*keepdim=*/true) + eps_);
  return apply_weight_bias(normed.to(x.scalar_type()), weight, bias);
}

namespace large {

MultiHeadLayerNormImpl::MultiHeadLayerNormImpl(int64_t num_heads, int64_t head_dim, double eps, bool use_weight,
                                               bool use_bias, bool force_float32_reductions,
                                               const torch::TensorOptions& options)
    : num_heads_(num_heads), head_dim_(head_dim), eps_(eps), force_float32_reductions_(force_float32_reductions) {
  TORCH_CHECK(num_heads > 0 && head_dim > 0, "MultiHeadLayerNorm: num_heads and head_dim must be positive, got ",
              num_heads, " and ", head_dim);
  if (use_weight) weight = register_parameter("weight", torch::empty({num_heads * head_dim}, options));
  if (use_bias) bias = register_parameter("bias", torch::empty({num_heads * head_dim}, options));
  reset_parameters();
}

void MultiHeadLayerNormImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  if (weight.defined()) weight.fill_(1.0);
  if (bias.defined()) bias.zero_();
}

torch::Tensor MultiHeadLayerNormImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(2) == num_heads_ && x.size(3) == head_dim_,
              "MultiHeadLayerNorm: expected input (B, S, ", num_heads_, ", ", head_dim_, "), got ", x.sizes());
  const auto xr = reduction_input(x, force_float32_reductions_);
  const auto centered = xr - xr.mean(-1, /*keepdim=*/true);
  const auto var = xr.var(-1, /*unbiased=*/false, /*keepdim=*/true);
  const auto normed = (centered * torch::rsqrt(var + eps_)).to(x.scalar_type());
  return apply_weight_bias(normed.reshape({x.size(0), x.size(1), num_heads_ * head_dim_}), weight, bias);
}

}  // namespace large
}  // namespace xlstm
