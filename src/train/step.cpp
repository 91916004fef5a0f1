// train_step and masked_loss.
#include "xlstm/train/step.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "xlstm/ops.h"
#include "xlstm/train/autocast.h"
#include "xlstm/train/fused_adamw.h"
#include "xlstm/train/gradient_reducer.h"
#include "xlstm/train/optimizer.h"

namespace xlstm::train {
namespace {

// Data parallel: `stats` of the global batch (the sums over the ranks), and this rank's loss weighted
// by W·count_r / count_global, so that the reducer's mean of the ranks' gradients is the gradient of
// the global batch's mean loss, as one process over the whole batch computes it. A rank without a
// target still runs backward (zero gradients), so that every rank reduces the same buckets.
torch::Tensor data_parallel_objective(GradientReducer& reducer, const MaskedLoss& loss, const torch::Tensor& logits,
                                      int64_t tokens, StepStats& stats) {
  DistributedContext& context = reducer.context();
  const auto count = static_cast<double>(loss.count);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(logits.device());
  auto sums = torch::stack({loss.loss.detach().to(torch::kFloat64) * count, loss.correct.to(torch::kFloat64),
                            torch::full({}, count, f64), torch::full({}, static_cast<double>(tokens), f64)});
  context.all_reduce_sum(sums);
  const auto global = sums.cpu();
  const double* v = global.data_ptr<double>();
  stats.count = static_cast<int64_t>(v[2]);
  stats.loss = stats.count ? v[0] / v[2] : 0.0;
  stats.correct = static_cast<int64_t>(v[1]);
  stats.tokens = static_cast<int64_t>(v[3]);
  if (loss.count == 0 || stats.count == 0) return logits.sum() * 0.0;
  return loss.loss * (context.world_size() * count / v[2]);
}

}  // namespace

MaskedLoss masked_loss(const torch::Tensor& logits, const torch::Tensor& targets, int64_t ignore_index,
                       bool grad_into_logits) {
  const auto flat_targets = targets.reshape({-1});
  const auto flat_logits = logits.reshape({-1, logits.size(-1)});
  MaskedLoss out;
  // On CUDA one kernel reads the logits as they are (bf16 under autocast) and computes in fp32 what
  // the fp32 cross-entropy below does, keeping two floats per row for the backward.
  if (auto fused = ops::cross_entropy_on_device(flat_logits, flat_targets, ignore_index, grad_into_logits)) {
    const auto& [row_loss, predicted] = *fused;
    const auto valid = flat_targets.ne(ignore_index);
    out.count = valid.sum().item<int64_t>();
    out.loss = out.count ? row_loss.sum() / static_cast<double>(out.count) : torch::zeros({}, row_loss.options());
    out.correct = predicted.eq(flat_targets).logical_and_(valid).sum();
    return out;
  }
  // Only the rows with a target enter the fp32 cross-entropy: for the experiments' tasks that is one
  // position per sequence (formal languages) or N of T (MQAR), not the whole (B·S, V) block. Where every
  // row has one (language modelling) the logits enter as they are: no gather of the (B·S, V) block
  // forward and no scatter backward.
  const auto rows = flat_targets.ne(ignore_index).nonzero().squeeze(1);
  const bool all_rows = rows.size(0) == flat_targets.size(0);
  const auto picked = (all_rows ? flat_logits : flat_logits.index_select(0, rows)).to(torch::kFloat32);
  const auto picked_targets = all_rows ? flat_targets : flat_targets.index_select(0, rows);
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
  MaskedLoss loss = masked_loss(logits, batch.targets, options.ignore_index, model.logits_only_for_the_loss);
  StepStats stats;
  torch::Tensor objective = loss.loss;
  if (options.reducer) {
    objective = data_parallel_objective(*options.reducer, loss, logits, batch.inputs.numel(), stats);
  } else {
    stats.count = loss.count;
    stats.tokens = batch.inputs.numel();
  }
  logits.reset();  // the loss's backward may write the logits' gradient over them
  if (stats.count == 0) throw std::runtime_error("train_step: the batch has no target (all are ignore_index)");
  if (options.reducer) options.reducer->prepare();
  objective.backward();
  if (options.reducer) options.reducer->finish();
  // Read after backward() is queued, so that the device does not wait for the host in between; a
  // non-finite loss still stops the step before the parameters change.
  if (!options.reducer) stats.loss = loss.loss.item<double>();
  if (!std::isfinite(stats.loss)) throw std::runtime_error("train_step: the loss is not finite (" + std::to_string(stats.loss) + ")");

  std::vector<torch::Tensor> params;  // clip_grad_norm skips those without a gradient
  for (const auto& group : optimizer.param_groups())
    for (const auto& p : group.params()) params.push_back(p);
  stats.grad_norm = clip_grad_norm(params, options.clip_norm);
  if (!std::isfinite(stats.grad_norm))
    throw std::runtime_error("train_step: the gradient norm is not finite (" + std::to_string(stats.grad_norm) + ")");

  set_learning_rate(optimizer, options.lr);
  if (auto* adamw = dynamic_cast<torch::optim::AdamW*>(&optimizer)) {
    fused_adamw_step(*adamw);
  } else {
    optimizer.step();
  }
  if (!options.reducer) stats.correct = loss.correct.item<int64_t>();
  return stats;
}

}  // namespace xlstm::train
