// One step of a torch::optim::AdamW through ATen's multi-tensor fused AdamW kernel (_fused_adamw_,
// the kernel of torch.optim.AdamW(fused=True)): a few launches for all parameters of a group instead
// of ~8 per parameter (the 164M model has 336 parameter tensors). The update is AdamW's (decoupled
// weight decay, bias corrections) on the optimizer's own state (exp_avg, exp_avg_sq, step), so its
// checkpoints stay those of torch::optim::AdamW and either step can follow the other. Groups with
// amsgrad run the optimizer's own step.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <vector>

namespace xlstm::train {

// found_inf (a one-element fp32 tensor on the parameters' device): where it holds 1 when the kernel
// runs, the kernel changes neither the parameters nor exp_avg and exp_avg_sq, so that a step can be
// dropped by a value the host has not read yet; the step counts advance all the same (the host's),
// and rewind_adamw_step takes them back.
void fused_adamw_step(torch::optim::AdamW& optimizer, const std::optional<torch::Tensor>& found_inf = std::nullopt);
void rewind_adamw_step(torch::optim::AdamW& optimizer);

// Whether fused_adamw_step runs the fused kernel for every group (not with amsgrad, where it runs the
// optimizer's own step, which has no found_inf).
bool fused_adamw_applies(const torch::optim::AdamW& optimizer);

// The global 2-norm of the gradients of `params` (those with one), computed in fp32 with a few
// multi-tensor launches; with `max_norm`, the gradients are then scaled by min(1, max_norm / (norm +
// 1e-6)), as torch::nn::utils::clip_grad_norm_ does. Returns the norm before clipping as a 0-d fp32
// tensor on the gradients' device (0 on the CPU without gradients), so that the host need not wait.
torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& params, std::optional<double> max_norm);

}  // namespace xlstm::train
