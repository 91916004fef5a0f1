// The config of xlstm_lm_baseline (configs/lm_brown_transformer.yaml):
//
//   base: lm_brown.yaml        # an LM config of `xlstm train`, relative to this file: the baseline uses
//                              # its training and dataset sections (the same data, token budget and
//                              # optimiser), model.vocab_size and dataset.kwargs.context_length
//   transformer:               # TransformerConfig fields (transformer_baseline.h)
//     embedding_dim: 256
//     num_layers: 8
//     num_heads: 4
//     mlp_factor: 4
//     dropout: 0.0
//     tie_weights: true
//
// Strict like the library's configs: unknown keys and wrong types are ConfigErrors naming the key.
#pragma once

#include <string>
#include <vector>

#include <xlstm/train/experiment_config.h>

#include "lm/transformer_baseline.h"

namespace xlstm_examples {

struct BaselineConfig {
  xlstm::train::LMExperimentConfig base;
  TransformerConfig transformer;
  std::string yaml;  // the resolved config (base, then the transformer section), stored in checkpoints
};

// `overrides` ("key.path=value", YAML values): transformer.* set fields of the transformer section,
// the others go to the base config (--set training.num_steps=100).
BaselineConfig read_baseline_config(const std::string& path, const std::vector<std::string>& overrides);

}  // namespace xlstm_examples
