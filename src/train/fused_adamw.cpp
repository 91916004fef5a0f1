// fused_adamw_step: the AdamW state of each parameter (created as torch::optim::AdamW creates it),
// the parameters of a group split by device and dtype, one _fused_adamw_ call per split with the
// steps after this one as 0-d tensors (and found_inf, which drops the update on the device).
// clip_grad_norm: _foreach_norm and _foreach_mul_.
#include "xlstm/train/fused_adamw.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace xlstm::train {
namespace {

using torch::optim::AdamWOptions;
using torch::optim::AdamWParamState;

// The parameters of one device and dtype within a group, with their state tensors.
struct Split {
  Split(c10::Device d, c10::ScalarType t) : device(d), dtype(t) {}
  c10::Device device;
  c10::ScalarType dtype;
  std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs;
  std::vector<float> steps;  // after this step
};

AdamWParamState& state_of(torch::optim::AdamW& optimizer, const torch::Tensor& p) {
  auto& state = optimizer.state();
  auto it = state.find(p.unsafeGetTensorImpl());
  if (it == state.end()) {
    auto fresh = std::make_unique<AdamWParamState>();
    fresh->step(0);
    fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    it = state.emplace(p.unsafeGetTensorImpl(), std::move(fresh)).first;
  }
  return static_cast<AdamWParamState&>(*it->second);
}

}  // namespace

bool fused_adamw_applies(const torch::optim::AdamW& optimizer) {
  for (const auto& group : optimizer.param_groups())
    if (static_cast<const AdamWOptions&>(group.options()).amsgrad()) return false;
  return true;
}

void fused_adamw_step(torch::optim::AdamW& optimizer, const std::optional<torch::Tensor>& found_inf) {
  torch::NoGradGuard no_grad;
  if (!fused_adamw_applies(optimizer)) {
    TORCH_CHECK(!found_inf, "fused_adamw_step: found_inf needs the fused kernel, which has no amsgrad");
    optimizer.step();  // no fused path: the optimizer's own (all groups; rare enough to keep simple)
    return;
  }
  for (auto& group : optimizer.param_groups()) {
    const auto& options = static_cast<const AdamWOptions&>(group.options());
    std::vector<Split> splits;  // almost always one
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      TORCH_CHECK(!p.grad().is_sparse(), "fused_adamw_step: sparse gradients are not supported");
      AdamWParamState& state = state_of(optimizer, p);
      state.step(state.step() + 1);
      auto it = std::find_if(splits.begin(), splits.end(),
                             [&](const Split& s) { return s.device == p.device() && s.dtype == p.scalar_type(); });
      Split& s = it != splits.end() ? *it : splits.emplace_back(p.device(), p.scalar_type());
      s.params.push_back(p);
      s.grads.push_back(p.grad());
      s.exp_avgs.push_back(state.exp_avg());
      s.exp_avg_sqs.push_back(state.exp_avg_sq());
      s.steps.push_back(static_cast<float>(state.step()));
    }
    const auto [beta1, beta2] = options.betas();
    for (auto& s : splits) {
      // Through pinned memory without blocking: a copy from pageable memory waits for the device.
      auto host = torch::tensor(s.steps);
      if (s.device.is_cuda()) host = host.pin_memory();
      const auto steps = host.to(s.device, /*non_blocking=*/true).unbind(0);
      at::_fused_adamw_(s.params, s.grads, s.exp_avgs, s.exp_avg_sqs, {}, steps, options.lr(), beta1, beta2,
                        options.weight_decay(), options.eps(), /*amsgrad=*/false, /*maximize=*/false,
                        /*grad_scale=*/std::nullopt, found_inf);
    }
  }
}

void rewind_adamw_step(torch::optim::AdamW& optimizer) {
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params())
      if (p.grad().defined()) {
        AdamWParamState& state = state_of(optimizer, p);
        state.step(state.step() - 1);
      }
}

torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& params, std::optional<double> max_norm) {
  std::vector<torch::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return torch::zeros({});
  const auto norm = torch::stack(at::_foreach_norm(grads, 2, torch::kFloat32)).norm();
  if (max_norm) {
    torch::NoGradGuard no_grad;
    const auto coef = (*max_norm / (norm + 1e-6)).clamp_max(1.0);
    at::_foreach_mul_(grads, coef);
  }
  return norm;
}

}  // namespace xlstm::train
