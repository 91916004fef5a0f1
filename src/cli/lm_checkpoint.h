// A checkpoint of `xlstm train` made ready for generation: the LM config stored in it, the
// xLSTMLMModel with its weights, and the tokenizer the config names (or another one).
#pragma once

#include <optional>
#include <string>

#include "xlstm/lm_model.h"
#include "xlstm/tokenizer/tokenizer.h"
#include "xlstm/train/experiment_config.h"

namespace xlstm::cli {

struct LMCheckpoint {
  std::string folder;  // the checkpoint folder (config.yaml, model.safetensors, ...)
  train::LMExperimentConfig config;
  xLSTMLMModel model{nullptr};  // on the CPU, in eval mode
  std::optional<tokenizer::Tokenizer> tokenizer;
};

// `dir` is a run folder of `xlstm train` (holding checkpoint/) or the checkpoint folder itself;
// `tokenizer_path` replaces the config's dataset.kwargs.tokenizer when not empty. Errors name the
// folder or file: no checkpoint there, a config that is not an LM config, weights that do not fit the
// config's model (strict: every missing, unexpected or mis-shaped tensor), a tokenizer whose
// vocabulary is larger than the model's.
LMCheckpoint load_lm_checkpoint(const std::string& dir, const std::string& tokenizer_path = "");

}  // namespace xlstm::cli
