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
  const auto flat_logits = logits.reshape({-1, logits.size(-1)}).to(torch::kFloat32);
  const auto flat_targets = targets.reshape({-1});
  const auto valid = flat_targets.ne(ignore_index);
  MaskedLoss out;
  out.count = valid.sum().item<int64_t>();
  out.loss = torch::nn::functional::cross_entropy(
      flat_logits, flat_targets, torch::nn::functional::CrossEntropyFuncOptions().ignore_index(ignore_index));
  out.correct = (flat_logits.argmax(-1).eq(flat_targets) & valid).sum();
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
