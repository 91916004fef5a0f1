// What `xlstm info` reports about a model configuration: parameter counts (total, embedding, head,
// per block), the block layout, and memory estimates. Shared with the subcommands that build models.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xlstm/config.h"

namespace xlstm::cli {

// A model config of either family.
struct ModelConfig {
  std::optional<xLSTMLMModelConfig> lm;
  std::optional<xLSTMLargeConfig> large;
};

// A YAML file holding an xLSTMLMModelConfig, the model of an LM config (xlstm train), or an
// xLSTMLargeConfig; an error quoting the parse errors when it is none of them.
ModelConfig read_model_config(const std::string& yaml_path);

struct ModelSummary {
  std::string family;  // "xLSTMLMModel" or "xLSTMLarge"
  int64_t parameters = 0;  // distinct tensors (a tied head counts once)
  int64_t embedding = 0, head = 0, other = 0;  // head 0 when tied; other: norms outside the blocks
  bool tied = false;
  struct Block {
    std::string kind;  // "mLSTM" or "sLSTM"
    int64_t parameters = 0;
  };
  std::vector<Block> blocks;
  int64_t state_bytes_per_sequence = 0;  // the recurrent state of one sequence (fp32)
};

// Builds the model (xLSTMLMModel on the CPU in fp32, xLSTMLarge on the meta device) and counts.
ModelSummary summarize(const ModelConfig& config);

// The report printed by `xlstm info`.
std::string format_summary(const ModelSummary& summary);

}  // namespace xlstm::cli
