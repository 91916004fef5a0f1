// What the training loop needs of a model: the module (parameters, train/eval mode, checkpoints) and
// a function from input ids (B, S) to logits (B, S, V). Any sequence model fits; `trainable` wraps
// an xLSTMLMModel.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>

#include "xlstm/lm_model.h"

namespace xlstm::train {

struct TrainableModel {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor& input_ids)> logits;
  bool weight_decay_on_embedding = false;  // for the optimizer's groups
};

inline TrainableModel trainable(const xLSTMLMModel& model) {
  std::shared_ptr<xLSTMLMModelImpl> impl = model.ptr();
  return {impl, [impl](const torch::Tensor& ids) { return std::get<0>(impl->forward(ids)); },
          impl->config.weight_decay_on_embedding};
}

}  // namespace xlstm::train
