// Training checkpoints: one folder holding everything needed to resume training exactly.
//   model.safetensors  the module's state dict (see state_dict.h)
//   optimizer.pt       the optimizer state (torch::save of the optimizer: step counts, moments, ...)
//   trainer.json       {"format": "xlstm-training-checkpoint", "version": 1, "step": N, "metadata": {...}}
//   config.yaml        the model configuration text, stored verbatim
// Saving writes a temporary folder next to `dir` and swaps it in, so an interrupted or failed save
// never damages a checkpoint already at `dir`.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>

#include "xlstm/io/safetensors.h"

namespace xlstm::io {

struct TrainingState {
  int64_t step = 0;
  std::string config_yaml;
  std::map<std::string, std::string> metadata;
};

// Writes a checkpoint folder at `dir` (its parent must exist). An existing folder at `dir` is replaced
// only if it is empty or holds a training checkpoint (a trainer.json); anything else is refused.
void save_training_checkpoint(const std::string& dir, const torch::nn::Module& module,
                              const torch::optim::Optimizer& optimizer, int64_t step,
                              const std::string& config_yaml,
                              const std::map<std::string, std::string>& metadata = {});

// Loads the checkpoint at `dir` into `module` (strict state dict load) and `optimizer` (which must
// have been built over the same parameters) and returns the step, config text and metadata. All four
// files and trainer.json are checked before anything is loaded; a state dict that does not fit leaves
// both untouched. CheckpointError names the folder or file at fault.
TrainingState load_training_checkpoint(const std::string& dir, torch::nn::Module& module,
                                       torch::optim::Optimizer& optimizer);

}  // namespace xlstm::io
