// xlstm::mlstm_conv_qkv: argument checks, the ATen implementation (CPU kernels, CUDA fallback) and
// the autograd kernel, whose backward is one xlstm::mlstm_conv_qkv_bw call.
#include "ops/conv_qkv.h"

#include <torch/csrc/autograd/functions/utils.h>
#include <torch/library.h>

#include <string>
#include <vector>

#include "ops/tensor_args.h"
#include "xlstm/ops.h"

namespace xlstm::ops::detail {
namespace {

void check_vector(const char* op, const char* name, const OptTensor& t, const torch::Tensor& x) {
  if (!t || !t->defined()) return;
  TORCH_CHECK(at::isFloatingType(t->scalar_type()) && t->dim() == 1 && t->size(0) == x.size(2), op, ": ", name,
              " must be a floating (", x.size(2), ") tensor, got ", t->sizes());
  TORCH_CHECK(t->device() == x.device(), op, ": ", name, " is on ", t->device(), ", x on ", x.device());
}

torch::Tensor as(const OptTensor& t, torch::ScalarType dt) {
  return t && t->defined() ? t->to(dt) : torch::Tensor();
}

// y[b, s, n*BS + o] = Σ_i x[b, s, n*BS + i] W[n, o, i] (+ bias).
torch::Tensor headwise(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& bias) {
  const int64_t B = x.size(0), S = x.size(1), NB = w.size(0), BS = w.size(2);
  auto y = torch::einsum("bsni,noi->bsno", {x.reshape({B, S, NB, BS}), w}).reshape({B, S, NB * BS});
  return bias.defined() ? y + bias : y;
}

// The function in the compute dtype ct (inputs and parameters already cast), c rounded to dt before it
// feeds q and k; every output in dt.
std::vector<torch::Tensor> conv_qkv_function(const torch::Tensor& x, const torch::Tensor& conv_weight,
                                             const torch::Tensor& conv_bias, const torch::Tensor& wq,
                                             const torch::Tensor& wk, const torch::Tensor& wv,
                                             const torch::Tensor& bq, const torch::Tensor& bk,
                                             const torch::Tensor& bv, torch::ScalarType dt) {
  const int64_t B = x.size(0), S = x.size(1), D = x.size(2), K = conv_weight.size(2);
  const auto padded = torch::cat({x.new_zeros({B, K - 1, D}), x}, 1);  // x_t = 0 before the sequence
  auto conv = conv_bias.defined() ? conv_bias.expand({B, S, D}) : torch::zeros_like(x);
  for (int64_t k = 0; k < K; ++k) conv = conv + padded.narrow(1, k, S) * conv_weight.select(2, k).squeeze(1);
  const auto c = (conv * torch::sigmoid(conv)).to(dt);
  const auto cf = c.to(x.scalar_type());
  return {c, headwise(cf, wq, bq).to(dt), headwise(cf, wk, bk).to(dt), headwise(x, wv, bv).to(dt)};
}

}  // namespace

void check_conv_qkv_args(const char* op, const torch::Tensor& x, const torch::Tensor& conv_weight,
                         const OptTensor& conv_bias, const torch::Tensor& wq, const torch::Tensor& wk,
                         const torch::Tensor& wv, const OptTensor& bq, const OptTensor& bk, const OptTensor& bv) {
  TORCH_CHECK(x.defined() && at::isFloatingType(x.scalar_type()) && x.dim() == 3 && x.numel() > 0, op,
              ": x must be a non-empty floating (B, S, D) tensor, got ", sizes_of(x));
  const int64_t D = x.size(2);
  TORCH_CHECK(conv_weight.defined() && at::isFloatingType(conv_weight.scalar_type()) && conv_weight.dim() == 3 &&
                  conv_weight.size(0) == D && conv_weight.size(1) == 1 && conv_weight.size(2) >= 1,
              op, ": conv_weight must be a floating (", D, ", 1, K) tensor with K >= 1, got ", sizes_of(conv_weight));
  TORCH_CHECK(conv_weight.device() == x.device(), op, ": conv_weight is on ", conv_weight.device(), ", x on ",
              x.device());
  for (const auto& [name, w] : {std::pair{"wq", &wq}, std::pair{"wk", &wk}, std::pair{"wv", &wv}}) {
    TORCH_CHECK(w->defined() && at::isFloatingType(w->scalar_type()) && w->dim() == 3 && w->size(1) == w->size(2) &&
                    w->size(0) * w->size(2) == D,
                op, ": ", name, " must be a floating (NB, BS, BS) tensor with NB * BS = ", D, ", got ", sizes_of(*w));
    TORCH_CHECK(w->sizes() == wq.sizes(), op, ": ", name, " must have wq's shape ", wq.sizes(), ", got ", w->sizes());
    TORCH_CHECK(w->device() == x.device(), op, ": ", name, " is on ", w->device(), ", x on ", x.device());
  }
  check_vector(op, "conv_bias", conv_bias, x);
  check_vector(op, "bq", bq, x);
  check_vector(op, "bk", bk, x);
  check_vector(op, "bv", bv, x);
}

void check_conv_qkv_grads(const char* op, const torch::Tensor& x, const OptTensor& dc, const torch::Tensor& dq,
                          const torch::Tensor& dk, const torch::Tensor& dv) {
  for (const auto& [name, g] : {std::pair{"dc", dc ? &*dc : nullptr}, std::pair{"dq", &dq}, std::pair{"dk", &dk},
                                std::pair{"dv", &dv}}) {
    if (g == nullptr || (!g->defined() && std::string(name) == "dc")) continue;
    TORCH_CHECK(g->defined() && g->sizes() == x.sizes() && g->scalar_type() == x.scalar_type() &&
                    g->device() == x.device(),
                op, ": ", name, " must be like x (", x.sizes(), ", ", x.scalar_type(), "), got ", sizes_of(*g));
  }
}

ConvQkvOut reference_conv_qkv(const torch::Tensor& x, const torch::Tensor& conv_weight, const OptTensor& conv_bias,
                              const torch::Tensor& wq, const torch::Tensor& wk, const torch::Tensor& wv,
                              const OptTensor& bq, const OptTensor& bk, const OptTensor& bv) {
  check_conv_qkv_args("mlstm_conv_qkv", x, conv_weight, conv_bias, wq, wk, wv, bq, bk, bv);
  const auto ct = aten_compute_dtype(x);
  const auto out = conv_qkv_function(x.to(ct), conv_weight.to(ct), as(conv_bias, ct), wq.to(ct), wk.to(ct),
                                     wv.to(ct), as(bq, ct), as(bk, ct), as(bv, ct), x.scalar_type());
  return {out[0], out[1], out[2], out[3]};
}

ConvQkvBwOut reference_conv_qkv_bw(const OptTensor& dc, const torch::Tensor& dq, const torch::Tensor& dk,
                                   const torch::Tensor& dv, const torch::Tensor& x, const torch::Tensor& conv_weight,
                                   const OptTensor& conv_bias, const torch::Tensor& wq, const torch::Tensor& wk,
                                   const torch::Tensor& wv, const OptTensor& bq, const OptTensor& bk,
                                   const OptTensor& bv) {
  check_conv_qkv_args("mlstm_conv_qkv_bw", x, conv_weight, conv_bias, wq, wk, wv, bq, bk, bv);
  check_conv_qkv_grads("mlstm_conv_qkv_bw", x, dc, dq, dk, dv);
  const auto ct = aten_compute_dtype(x);
  const auto leaf = [&](const torch::Tensor& t) {
    return t.defined() ? t.detach().to(ct).requires_grad_(true) : torch::Tensor();
  };
  const auto none = torch::Tensor();
  std::vector<torch::Tensor> in{leaf(x),  leaf(conv_weight), leaf(conv_bias.value_or(none)),
                                leaf(wq), leaf(wk),          leaf(wv),
                                leaf(bq.value_or(none)), leaf(bk.value_or(none)), leaf(bv.value_or(none))};
  torch::AutoGradMode grad_mode(true);
  const auto out = conv_qkv_function(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], in[8], x.scalar_type());
  std::vector<torch::Tensor> outputs, grads, inputs;
  const std::vector<torch::Tensor> given{dc.value_or(none), dq, dk, dv};
  for (size_t i = 0; i < out.size(); ++i) {
    if (!given[i].defined()) continue;
    outputs.push_back(out[i]);
    grads.push_back(given[i]);
  }
  for (const auto& t : in)
    if (t.defined()) inputs.push_back(t);
  const auto g = torch::autograd::grad(outputs, inputs, grads, /*retain_graph=*/false, /*create_graph=*/false,
                                       /*allow_unused=*/true);
  // Back to the inputs' order and dtypes (absent biases stay undefined).
  const std::vector<torch::Tensor> originals{x, conv_weight, conv_bias.value_or(none), wq, wk, wv,
                                             bq.value_or(none), bk.value_or(none), bv.value_or(none)};
  std::vector<torch::Tensor> result;
  size_t next = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!in[i].defined()) {
      result.emplace_back();
      continue;
    }
    const auto& gi = g[next++];
    result.push_back(gi.defined() ? gi.to(originals[i].scalar_type()) : torch::zeros_like(originals[i]));
  }
  return {result[0], result[1], result[2], result[3], result[4], result[5], result[6], result[7], result[8]};
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class ConvQkvFunction : public torch::autograd::Function<ConvQkvFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& conv_weight,
                               const OptTensor& conv_bias, const torch::Tensor& wq, const torch::Tensor& wk,
                               const torch::Tensor& wv, const OptTensor& bq, const OptTensor& bk,
                               const OptTensor& bv) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    auto [c, q, k, v] = ops::mlstm_conv_qkv(x, conv_weight, conv_bias, wq, wk, wv, bq, bk, bv);
    const torch::Tensor none;
    ctx->save_for_backward({x, conv_weight, conv_bias.value_or(none), wq, wk, wv, bq.value_or(none),
                            bk.value_or(none), bv.value_or(none)});
    return {c, q, k, v};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const auto zero_if_none = [&](const torch::Tensor& g) { return g.defined() ? g : torch::zeros_like(s[0]); };
    auto [dx, dcw, dcb, dwq, dwk, dwv, dbq, dbk, dbv] =
        ops::mlstm_conv_qkv_bw(opt(grads[0]), zero_if_none(grads[1]), zero_if_none(grads[2]), zero_if_none(grads[3]),
                               s[0], s[1], opt(s[2]), s[3], s[4], s[5], opt(s[6]), opt(s[7]), opt(s[8]));
    return {dx, dcw, dcb, dwq, dwk, dwv, dbq, dbk, dbv};
  }
};

ConvQkvOut conv_qkv_autograd(const torch::Tensor& x, const torch::Tensor& conv_weight, const OptTensor& conv_bias,
                             const torch::Tensor& wq, const torch::Tensor& wk, const torch::Tensor& wv,
                             const OptTensor& bq, const OptTensor& bk, const OptTensor& bv) {
  if (!torch::autograd::compute_requires_grad(x, conv_weight, conv_bias, wq, wk, wv, bq, bk, bv)) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    return ops::mlstm_conv_qkv(x, conv_weight, conv_bias, wq, wk, wv, bq, bk, bv);
  }
  auto out = ConvQkvFunction::apply(x, conv_weight, conv_bias, wq, wk, wv, bq, bk, bv);
  return {out[0], out[1], out[2], out[3]};
}

}  // namespace
}  // namespace xlstm::ops::detail

TORCH_LIBRARY_IMPL(xlstm, CPU, m) {
  m.impl("mlstm_conv_qkv", &xlstm::ops::detail::reference_conv_qkv);
  m.impl("mlstm_conv_qkv_bw", &xlstm::ops::detail::reference_conv_qkv_bw);
}

TORCH_LIBRARY_IMPL(xlstm, Autograd, m) { m.impl("mlstm_conv_qkv", &xlstm::ops::detail::conv_qkv_autograd); }
