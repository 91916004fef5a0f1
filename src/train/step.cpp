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
  const auto count = static_cast<double>(loss.count.item<int64_t>());
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
  if (count == 0 || stats.count == 0) return logits.sum() * 0.0;
  return loss.loss * (context.world_size() * count / v[2]);
}

// Why a step changes nothing: no target, a loss that is not finite, else the gradient norm.
[[noreturn]] void fail_step(const StepStats& stats) {
  if (stats.count == 0) throw std::runtime_error("train_step: the batch has no target (all are ignore_index)");
  if (!std::isfinite(stats.loss))
    throw std::runtime_error("train_step: the loss is not finite (" + std::to_string(stats.loss) + ")");
  throw std::runtime_error("train_step: the gradient norm is not finite (" + std::to_string(stats.grad_norm) + ")");
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
    out.count = valid.sum();
    out.loss = row_loss.sum() / out.count.clamp_min(1);  // ignored rows' losses are 0
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
  out.count = torch::full({}, rows.size(0), flat_targets.options());
  // Without a target the loss is 0 with a graph, so that a training step's backward runs (to zero gradients).
  out.loss = rows.size(0) ? torch::nn::functional::cross_entropy(picked, picked_targets)
                          : flat_logits.sum().to(torch::kFloat32) * 0.0;
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
    // The global batch's numbers are on the host already (the same on every rank): check them first.
    objective = data_parallel_objective(*options.reducer, loss, logits, batch.inputs.numel(), stats);
    if (stats.count == 0 || !std::isfinite(stats.loss)) fail_step(stats);
  } else {
    stats.tokens = batch.inputs.numel();
  }
  logits.reset();  // the loss's backward may write the logits' gradient over them
  if (options.reducer) options.reducer->prepare();
  objective.backward();
  if (options.reducer) options.reducer->finish();

  std::vector<torch::Tensor> params;  // clip_grad_norm skips those without a gradient
  for (const auto& group : optimizer.param_groups())
    for (const auto& p : group.params()) params.push_back(p);
  const auto norm = clip_grad_norm(params, options.clip_norm).to(loss.loss.device());
  // A step whose loss or gradient norm is not finite, or whose batch has no target, changes nothing.
  auto skip = norm.isfinite().logical_not();
  if (!options.reducer) skip = skip.logical_or(loss.loss.isfinite().logical_not()).logical_or(loss.count.eq(0));

  set_learning_rate(optimizer, options.lr);
  auto* adamw = dynamic_cast<torch::optim::AdamW*>(&optimizer);
  const bool fused = adamw != nullptr && fused_adamw_applies(*adamw);
  if (fused) fused_adamw_step(*adamw, skip.to(torch::kFloat32).reshape({1}));
  // The one read of the step: a wait here costs nothing, the device has all of the step queued.
  const auto host = torch::stack({norm.to(torch::kFloat64), skip.to(torch::kFloat64), loss.loss.detach().to(torch::kFloat64),
                                  loss.count.to(torch::kFloat64), loss.correct.to(torch::kFloat64)})
                        .cpu();
  const double* v = host.data_ptr<double>();
  stats.grad_norm = v[0];
  if (!options.reducer) {
    stats.loss = v[2];
    stats.count = static_cast<int64_t>(v[3]);
    stats.correct = static_cast<int64_t>(v[4]);
  }
  if (v[1] != 0) {
    if (fused) rewind_adamw_step(*adamw);
    fail_step(stats);
  }
  if (!fused) optimizer.step();
  return stats;
}

}  // namespace xlstm::train
