// AdamW over the reference's two weight-decay groups (xlstm-spec.md §4, weight_decay_param_groups in
// lm_model.h): group 0 with training.weight_decay, group 1 (biases, norms, the embedding) with 0.
#pragma once

#include <torch/torch.h>

#include <memory>

#include "xlstm/train/training_config.h"

namespace xlstm::train {

std::unique_ptr<torch::optim::AdamW> make_adamw(const torch::nn::Module& module, const TrainingConfig& config,
                                                bool weight_decay_on_embedding);

// Sets the learning rate of every parameter group.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace xlstm::train
