// What the training loop needs of a model: the module (parameters, train/eval mode, checkpoints) and
// a function from input ids (B, S) to logits (B, S, V). Any sequence model fits; `trainable` wraps
// an xLSTMLMModel. parameter_count counts a module's parameters; apply_memory_options sets the
// training config's recompute options on an xLSTMLMModel.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <set>

#include "xlstm/lm_model.h"
#include "xlstm/train/training_config.h"

namespace xlstm::train {

struct TrainableModel {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor& input_ids)> logits;
  bool weight_decay_on_embedding = false;  // for the optimizer's groups
  // Nothing but the loss reads the logits after the forward (the model keeps no reference and its
  // last op does not save its output for its backward): the loss's backward may then write the
  // gradient over them (train::masked_loss's grad_into_logits), one (tokens, vocabulary) block less.
  bool logits_only_for_the_loss = false;
};

inline TrainableModel trainable(const xLSTMLMModel& model) {
  std::shared_ptr<xLSTMLMModelImpl> impl = model.ptr();
  return {impl, [impl](const torch::Tensor& ids) { return std::get<0>(impl->forward(ids)); },
          impl->config.weight_decay_on_embedding, /*logits_only_for_the_loss=*/true};  // the head is a Linear
}

// The memory options of a `training` section on a model's block stack: recompute_blocks,
// recompute_block_count and recompute_chunk_states.
inline void apply_memory_options(xLSTMLMModel& model, const TrainingConfig& training) {
  auto& stack = model->xlstm_block_stack;
  stack->recompute_blocks = training.recompute_blocks;
  stack->recompute_count = training.recompute_block_count.value_or(-1);
  stack->recompute_chunk_states(training.recompute_chunk_states);
}

// Number of parameters, each tensor once (a tied head counts once).
inline int64_t parameter_count(const torch::nn::Module& module) {
  std::set<const void*> seen;
  int64_t count = 0;
  for (const auto& p : module.parameters())
    if (seen.insert(p.unsafeGetTensorImpl()).second) count += p.numel();
  return count;
}

}  // namespace xlstm::train
