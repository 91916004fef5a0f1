// train_step and masked_loss.
#include "xlstm/train/step.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "xlstm/train/autocast.h"
#include "xlstm/train/optimizer.h"

namespace xlstm::train {
namespace {

double global_grad_norm(const std::vector<torch::Tensor>& params) {
  if (params.empty()) return 0.0;
  std::vector<torch::Tensor> norms;
  for (const auto& p : params) norms.push_back(p.grad().norm().to(torch::kFloat32));
  return torch::stack(norms).norm().item<double>();
}

}  // namespace

MaskedLoss masked_loss(const torch::Tensor& logits, const torch::Tensor& targets, int64_t ignore_index) {
  // Only the rows with a target enter the fp32 cross-entropy: for the experiments' tasks that is one
  // position per sequence (formal languages) or N of T (MQAR), not the whole (B·S, V) block.
  const auto flat_targets = targets.reshape({-1});
  const auto rows = flat_targets.ne(ignore_index).nonzero().squeeze(1);
  const auto picked = logits.reshape({-1, logits.size(-1)}).index_select(0, rows).to(torch::kFloat32);
  const auto picked_targets = flat_targets.index_select(0, rows);
  MaskedLoss out;
  out.count = rows.size(0);
  out.loss = out.count ? torch::nn::functional::cross_entropy(picked, picked_targets)
                       : torch::zeros({}, picked.options());
  out.correct = picked.argmax(-1).eq(picked_targets).sum();
  return out;
}

StepStats train_step(TrainableModel& model, torch::optim::Optimizer& optimizer, const data::Batch& batch,
                     const StepOptions& options) {
  model.module->train();
  optimizer.zero_grad();
  torch::Tensor logits;
  {
    AutocastGuard autocast(batch.inputs.device(), options.amp_dtype);
    logits = model.logits(batch.inputs);
  }
  MaskedLoss loss = masked_loss(logits, batch.targets, options.ignore_index);
  if (loss.count == 0) throw std::runtime_error("train_step: the batch has no target (all are ignore_index)");
  StepStats stats;
  stats.loss = loss.loss.item<double>();
  if (!std::isfinite(stats.loss)) throw std::runtime_error("train_step: the loss is not finite (" + std::to_string(stats.loss) + ")");
  loss.loss.backward();

  std::vector<torch::Tensor> params;
  for (const auto& group : optimizer.param_groups())
    for (const auto& p : group.params())
      if (p.grad().defined()) params.push_back(p);
  stats.grad_norm = options.clip_norm ? torch::nn::utils::clip_grad_norm_(params, *options.clip_norm)
                                      : global_grad_norm(params);
  if (!std::isfinite(stats.grad_norm))
    throw std::runtime_error("train_step: the gradient norm is not finite (" + std::to_string(stats.grad_norm) + ")");

  set_learning_rate(optimizer, options.lr);
  optimizer.step();
  stats.correct = loss.correct.item<int64_t>();
  stats.count = loss.count;
  return stats;
}

}  // namespace xlstm::train
