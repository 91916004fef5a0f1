// xlstm::layer_norm: argument checks, the ATen implementation (CPU kernels, CUDA fallback) and the
// autograd kernel, whose backward is one xlstm::layer_norm_bw call.
#include "ops/layer_norm.h"

#include <torch/csrc/autograd/functions/utils.h>
#include <torch/library.h>

#include <utility>

#include "ops/tensor_args.h"
#include "xlstm/ops.h"

namespace xlstm::ops::detail {
namespace {

// The parameter as the module applies it: cast to x's dtype (the scale offset first), then computed in ct.
torch::Tensor applied(const OptTensor& t, double offset, const torch::Tensor& x, torch::ScalarType ct) {
  if (!t || !t->defined()) return torch::Tensor();
  return (offset == 0 ? *t : *t + offset).to(x.scalar_type()).to(ct);
}

}  // namespace

torch::ScalarType layer_norm_out_dtype(const torch::Tensor& x, std::optional<torch::ScalarType> out_dtype) {
  return out_dtype ? *out_dtype : x.scalar_type();
}

void check_layer_norm_args(const char* op, const torch::Tensor& x, const OptTensor& weight, const OptTensor& bias,
                           std::optional<torch::ScalarType> out_dtype) {
  TORCH_CHECK(is_float(x) && x.dim() >= 1 && x.size(-1) > 0, op,
              ": x must be a floating (..., E) tensor with E > 0, got ", sizes_of(x));
  const int64_t E = x.size(-1);
  for (const auto& [name, t] : {std::pair{"weight", &weight}, std::pair{"bias", &bias}}) {
    if (!*t || !(*t)->defined()) continue;
    TORCH_CHECK(is_float(**t) && (*t)->dim() == 1 && (*t)->size(0) == E, op, ": ", name, " must be a floating (", E,
                ") tensor for x of ", x.sizes(), ", got ", (*t)->sizes());
    TORCH_CHECK((*t)->device() == x.device(), op, ": ", name, " is on ", (*t)->device(), ", x on ", x.device());
  }
  if (out_dtype) {
    const auto xt = x.scalar_type(), ot = *out_dtype;
    TORCH_CHECK(ot == xt || (xt == torch::kFloat32 && (ot == torch::kBFloat16 || ot == torch::kFloat16)), op,
                ": out_dtype must be x's dtype ", xt, " or, for fp32 x, bf16 or fp16; got ", ot);
  }
}

void check_layer_norm_bw_args(const char* op, const torch::Tensor& dy, const torch::Tensor& x, const OptTensor& weight,
                              const OptTensor& bias, const torch::Tensor& mean, const torch::Tensor& rstd) {
  TORCH_CHECK(is_float(dy) && dy.sizes() == x.sizes() && dy.device() == x.device(), op,
              ": dy must be a floating tensor like x ", sizes_of(x), " on ", x.device(), ", got ", sizes_of(dy));
  check_layer_norm_args(op, x, weight, bias, dy.scalar_type());  // dy in the forward's output dtype
  const auto rows = x.sizes().slice(0, x.dim() - 1);
  const auto ct = aten_compute_dtype(x);
  for (const auto& [name, t] : {std::pair{"mean", &mean}, std::pair{"rstd", &rstd}})
    TORCH_CHECK(t->defined() && t->sizes() == rows && t->scalar_type() == ct && t->device() == x.device(), op, ": ",
                name, " must be the forward's ", rows, " ", ct, " tensor, got ", sizes_of(*t));
}

LayerNormOut reference_layer_norm(const torch::Tensor& x, const OptTensor& weight, const OptTensor& bias,
                                  double weight_offset, double eps, std::optional<torch::ScalarType> out_dtype) {
  check_layer_norm_args("layer_norm", x, weight, bias, out_dtype);
  const auto ct = aten_compute_dtype(x);
  const auto xf = x.to(ct);
  const auto mean = xf.mean(-1);
  const auto centered = xf - mean.unsqueeze(-1);
  const auto rstd = (centered.square().mean(-1) + eps).rsqrt();
  auto y = centered * rstd.unsqueeze(-1);
  if (const auto scale = applied(weight, weight_offset, x, ct); scale.defined()) y = y * scale;
  if (const auto shift = applied(bias, 0, x, ct); shift.defined()) y = y + shift;
  return {y.to(layer_norm_out_dtype(x, out_dtype)), mean, rstd};
}

LayerNormBwOut reference_layer_norm_bw(const torch::Tensor& dy, const torch::Tensor& x, const OptTensor& weight,
                                       const OptTensor& bias, double weight_offset, const torch::Tensor& mean,
                                       const torch::Tensor& rstd) {
  check_layer_norm_bw_args("layer_norm_bw", dy, x, weight, bias, mean, rstd);
  const auto ct = aten_compute_dtype(x);
  const auto xhat = (x.to(ct) - mean.unsqueeze(-1)) * rstd.unsqueeze(-1);
  const auto dyf = dy.to(ct);
  const auto scale = applied(weight, weight_offset, x, ct);
  const auto g = scale.defined() ? dyf * scale : dyf;
  const auto a = g.mean(-1, /*keepdim=*/true), b = (g * xhat).mean(-1, /*keepdim=*/true);
  const auto dx = (rstd.unsqueeze(-1) * (g - a - xhat * b)).to(x.scalar_type());
  const int64_t E = x.size(-1);
  const auto column_sum = [&](const torch::Tensor& t, const OptTensor& param) {
    return param && param->defined() ? t.reshape({-1, E}).sum(0).to(param->scalar_type()) : torch::Tensor();
  };
  return {dx, column_sum(dyf * xhat, weight), column_sum(dyf, bias)};
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class LayerNormFunction : public torch::autograd::Function<LayerNormFunction> {
 public:
  // weight and bias as optionals: autograd records no input for an absent one.
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x, const OptTensor& weight,
                               const OptTensor& bias, double weight_offset, double eps,
                               std::optional<torch::ScalarType> out_dtype) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    auto [y, mean, rstd] = ops::layer_norm(x, weight, bias, weight_offset, eps, out_dtype);
    ctx->save_for_backward({x, weight.value_or(torch::Tensor()), bias.value_or(torch::Tensor()), mean, rstd});
    ctx->saved_data["weight_offset"] = weight_offset;
    ctx->mark_non_differentiable({mean, rstd});
    return {y, mean, rstd};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    if (!grads[0].defined()) return variable_list(6);
    auto [dx, dweight, dbias] = ops::layer_norm_bw(grads[0].contiguous(), s[0], opt(s[1]), opt(s[2]),
                                                   ctx->saved_data["weight_offset"].toDouble(), s[3], s[4]);
    return {dx, dweight, dbias, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

LayerNormOut layer_norm_autograd(const torch::Tensor& x, const OptTensor& weight, const OptTensor& bias,
                                 double weight_offset, double eps, std::optional<torch::ScalarType> out_dtype) {
  // An undefined parameter as an absent one.
  const auto w = opt(weight.value_or(torch::Tensor())), b = opt(bias.value_or(torch::Tensor()));
  if (!torch::autograd::compute_requires_grad(x, w.value_or(torch::Tensor()), b.value_or(torch::Tensor()))) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    return ops::layer_norm(x, w, b, weight_offset, eps, out_dtype);
  }
  auto out = LayerNormFunction::apply(x, w, b, weight_offset, eps, out_dtype);
  return {out[0], out[1], out[2]};
}

}  // namespace
}  // namespace xlstm::ops::detail

TORCH_LIBRARY_IMPL(xlstm, CPU, m) {
  m.impl("layer_norm", &xlstm::ops::detail::reference_layer_norm);
  m.impl("layer_norm_bw", &xlstm::ops::detail::reference_layer_norm_bw);
}

TORCH_LIBRARY_IMPL(xlstm, Autograd, m) { m.impl("layer_norm", &xlstm::ops::detail::layer_norm_autograd); }
