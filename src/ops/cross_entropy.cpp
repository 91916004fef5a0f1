// xlstm::cross_entropy_rows: argument checks, the ATen implementation (CPU kernels, CUDA fallback) and
// the autograd kernel, whose backward is one xlstm::cross_entropy_rows_bw call.
#include "ops/cross_entropy.h"

#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/library.h>

#include "ops/tensor_args.h"
#include "xlstm/ops.h"

namespace xlstm::ops::detail {

void check_cross_entropy_args(const char* op, const torch::Tensor& logits, const torch::Tensor& targets) {
  TORCH_CHECK(logits.defined() && at::isFloatingType(logits.scalar_type()) && logits.dim() == 2, op,
              ": logits must be a floating (rows, vocab) tensor, got ", sizes_of(logits));
  TORCH_CHECK(logits.size(1) > 0, op, ": logits must have a vocabulary of at least 1, got ", logits.sizes());
  TORCH_CHECK(targets.defined() && targets.scalar_type() == torch::kLong && targets.dim() == 1 &&
                  targets.size(0) == logits.size(0),
              op, ": targets must be an int64 (", logits.size(0), ") tensor for logits of ", logits.sizes(), ", got ",
              sizes_of(targets), targets.defined() ? " " : "", targets.defined() ? c10::toString(targets.scalar_type()) : "");
  TORCH_CHECK(targets.device() == logits.device(), op, ": targets are on ", targets.device(), ", logits on ",
              logits.device());
}

void check_cross_entropy_bw_args(const char* op, const torch::Tensor& dloss, const torch::Tensor& logits,
                                 const torch::Tensor& targets, const torch::Tensor& lse) {
  check_cross_entropy_args(op, logits, targets);
  const auto ct = aten_compute_dtype(logits);
  for (const auto& [name, t] : {std::pair{"dloss", &dloss}, std::pair{"lse", &lse}})
    TORCH_CHECK(t->defined() && t->dim() == 1 && t->size(0) == logits.size(0) && t->scalar_type() == ct &&
                    t->device() == logits.device(),
                op, ": ", name, " must be a (", logits.size(0), ") ", ct, " tensor on ", logits.device(), ", got ",
                sizes_of(*t));
}

CrossEntropyOut reference_cross_entropy_rows(const torch::Tensor& logits, const torch::Tensor& targets,
                                             int64_t ignore_index, bool /*grad_into_logits*/) {
  check_cross_entropy_args("cross_entropy_rows", logits, targets);
  const auto x = logits.to(aten_compute_dtype(logits));
  const auto valid = targets.ne(ignore_index);
  const auto out_of_range = valid.logical_and(targets.lt(0).logical_or(targets.ge(logits.size(1))));
  if (out_of_range.any().item<bool>()) {
    const auto row = out_of_range.nonzero()[0][0].item<int64_t>();
    TORCH_CHECK(false, "cross_entropy_rows: target ", targets[row].item<int64_t>(), " of row ", row,
                " is outside the vocabulary [0, ", logits.size(1), ") and is not ignore_index ", ignore_index);
  }
  const auto lse = x.logsumexp(-1);
  const auto picked = x.gather(1, targets.where(valid, 0).unsqueeze(1)).squeeze(1);
  const auto zero = torch::zeros({}, x.options());
  return {(lse - picked).where(valid, zero), lse.where(valid, zero),
          x.argmax(-1).where(valid, torch::full({}, -1, targets.options()))};
}

torch::Tensor reference_cross_entropy_rows_bw(const torch::Tensor& dloss, const torch::Tensor& logits,
                                              const torch::Tensor& targets, const torch::Tensor& lse,
                                              int64_t ignore_index) {
  check_cross_entropy_bw_args("cross_entropy_rows_bw", dloss, logits, targets, lse);
  const auto x = logits.to(aten_compute_dtype(logits));
  const auto valid = targets.ne(ignore_index);
  auto d = (x - lse.unsqueeze(1)).exp();
  d.scatter_add_(1, targets.where(valid, 0).unsqueeze(1), -torch::ones({x.size(0), 1}, x.options()));
  return (d * dloss.where(valid, 0).unsqueeze(1)).to(logits.scalar_type());
}

torch::Tensor& reference_cross_entropy_rows_bw_(torch::Tensor& logits, const torch::Tensor& dloss,
                                                const torch::Tensor& targets, const torch::Tensor& lse,
                                                int64_t ignore_index) {
  return logits.copy_(reference_cross_entropy_rows_bw(dloss, logits, targets, lse, ignore_index));
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class CrossEntropyFunction : public torch::autograd::Function<CrossEntropyFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& logits, const torch::Tensor& targets,
                               int64_t ignore_index, bool grad_into_logits) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    auto [loss, lse, predicted] = ops::cross_entropy_rows(logits, targets, ignore_index);
    ctx->save_for_backward({logits, targets, lse});
    ctx->saved_data["ignore_index"] = ignore_index;
    ctx->saved_data["grad_into_logits"] = grad_into_logits;
    ctx->mark_non_differentiable({lse, predicted});
    return {loss, lse, predicted};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    if (!grads[0].defined()) return variable_list(4);
    const auto dloss = grads[0].to(s[2].scalar_type()).contiguous();
    const int64_t ignore_index = ctx->saved_data["ignore_index"].toInt();
    // Written over the saved logits where the caller gave them up: no second (rows, vocab) block. A
    // second backward through this graph then fails autograd's check of the saved tensor's version.
    auto logits = s[0];
    if (!ctx->saved_data["grad_into_logits"].toBool())
      return {ops::cross_entropy_rows_bw(dloss, logits, s[1], s[2], ignore_index), torch::Tensor(), torch::Tensor(),
              torch::Tensor()};
    ops::cross_entropy_rows_bw_(logits, dloss, s[1], s[2], ignore_index);
    torch::autograd::impl::bump_version(logits);
    return {logits, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

CrossEntropyOut cross_entropy_autograd(const torch::Tensor& logits, const torch::Tensor& targets,
                                       int64_t ignore_index, bool grad_into_logits) {
  if (!torch::autograd::compute_requires_grad(logits)) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    return ops::cross_entropy_rows(logits, targets, ignore_index);
  }
  auto out = CrossEntropyFunction::apply(logits, targets, ignore_index, grad_into_logits);
  return {out[0], out[1], out[2]};
}

}  // namespace
}  // namespace xlstm::ops::detail

TORCH_LIBRARY_IMPL(xlstm, CPU, m) {
  m.impl("cross_entropy_rows", &xlstm::ops::detail::reference_cross_entropy_rows);
  m.impl("cross_entropy_rows_bw", &xlstm::ops::detail::reference_cross_entropy_rows_bw);
  m.impl("cross_entropy_rows_bw_", &xlstm::ops::detail::reference_cross_entropy_rows_bw_);
}

TORCH_LIBRARY_IMPL(xlstm, Autograd, m) {
  m.impl("cross_entropy_rows", &xlstm::ops::detail::cross_entropy_autograd);
}
