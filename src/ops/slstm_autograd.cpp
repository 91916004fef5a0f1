// Autograd kernel of xlstm::slstm_fw: runs the forward op below the autograd keys with its caches,
// keeps what the backward needs, and answers backward() with one xlstm::slstm_bw call.
#include <torch/library.h>
#include <torch/torch.h>

#include "ops/tensor_args.h"
#include "xlstm/ops.h"

namespace xlstm::ops::detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class SlstmFunction : public torch::autograd::Function<SlstmFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& wx, const torch::Tensor& R,
                               const torch::Tensor& b, const OptTensor& s0, bool /*with_cache*/) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    auto [y, state_last, gates, states] = ops::slstm_fw(wx, R, b, s0, /*with_cache=*/true);
    ctx->save_for_backward({wx, R, b, s0.value_or(torch::Tensor()), y, gates, states});
    ctx->mark_non_differentiable({gates, states});
    return {y, state_last, gates, states};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const auto dy = grads[0].defined() ? grads[0] : torch::zeros_like(s[4]);
    auto [dwx, dR, db, ds0] = ops::slstm_bw(dy, opt(grads[1]), s[0], s[1], s[2], opt(s[3]), s[4], s[5], s[6]);
    return {dwx, dR, db, ds0, torch::Tensor()};
  }
};

// Records the node only when something needs a gradient; otherwise the forward runs without caches.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor> slstm_fw_autograd(
    const torch::Tensor& wx, const torch::Tensor& R, const torch::Tensor& b, const OptTensor& s0, bool with_cache) {
  const bool needs_grad = torch::GradMode::is_enabled() &&
                          (wx.requires_grad() || R.requires_grad() || b.requires_grad() || (s0 && s0->requires_grad()));
  if (!needs_grad) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    return ops::slstm_fw(wx, R, b, s0, with_cache);
  }
  auto out = SlstmFunction::apply(wx, R, b, s0, with_cache);
  return {out[0], out[1], out[2], out[3]};
}

}  // namespace
}  // namespace xlstm::ops::detail

TORCH_LIBRARY_IMPL(xlstm, Autograd, m) { m.impl("slstm_fw", &xlstm::ops::detail::slstm_fw_autograd); }
