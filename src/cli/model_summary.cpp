// Parameter counts, block layout and memory estimates of a model config (model_summary.h).
#include "cli/model_summary.h"

#include <torch/torch.h>

#include <cstdio>
#include <stdexcept>

#include "xlstm/large/model.h"
#include "xlstm/lm_model.h"
#include "xlstm/train/experiment_config.h"
#include "xlstm/train/trainable.h"

namespace xlstm::cli {
namespace {

using train::parameter_count;

int64_t state_bytes(const torch::Tensor& t) { return t.defined() ? t.numel() * t.element_size() : 0; }

ModelSummary summarize_lm(const xLSTMLMModelConfig& config) {
  torch::NoGradGuard no_grad;
  xLSTMLMModel model(config);
  model->eval();
  ModelSummary s;
  s.family = "xLSTMLMModel";
  s.parameters = parameter_count(*model);
  s.embedding = model->token_embedding->weight.numel();
  s.tied = config.tie_weights;
  s.head = s.tied ? 0 : model->lm_head->weight.numel();
  const std::vector<int> map = config.block_map();
  int64_t in_blocks = 0;
  for (size_t i = 0; i < model->xlstm_block_stack->blocks->size(); ++i) {
    const int64_t n = parameter_count(*model->xlstm_block_stack->blocks[i]);
    s.blocks.push_back({map[i] == 1 ? "sLSTM" : "mLSTM", n});
    in_blocks += n;
  }
  s.other = s.parameters - s.embedding - s.head - in_blocks;
  // The state after one step of one sequence, as the model returns it.
  const auto [logits, state] = model->step(torch::zeros({1, 1}, torch::kLong));
  for (const xLSTMBlockState& b : state)
    s.state_bytes_per_sequence += state_bytes(b.mlstm.conv) + state_bytes(b.mlstm.cell.C) + state_bytes(b.mlstm.cell.n) +
                                  state_bytes(b.mlstm.cell.m) + state_bytes(b.slstm.conv) + state_bytes(b.slstm.slstm);
  return s;
}

ModelSummary summarize_large(const xLSTMLargeConfig& config) {
  large::xLSTMLarge model(config, torch::TensorOptions().device(torch::kMeta));
  ModelSummary s;
  s.family = "xLSTMLarge";
  s.parameters = parameter_count(*model);
  s.embedding = model->embedding->weight.numel();
  s.head = parameter_count(*model->lm_head);
  int64_t in_blocks = 0;
  for (size_t i = 0; i < model->backbone->blocks->size(); ++i) {
    const int64_t n = parameter_count(*model->backbone->blocks[i]);
    s.blocks.push_back({"mLSTM", n});
    in_blocks += n;
  }
  s.other = s.parameters - s.embedding - s.head - in_blocks;
  // Per block C (NH, DHQK, DHV), n (NH, DHQK), m (NH, 1), fp32 (large/state.h).
  const int64_t nh = config.num_heads, dk = config.qk_head_dim(), dv = config.v_head_dim();
  s.state_bytes_per_sequence = config.num_blocks * nh * (dk * dv + dk + 1) * 4;
  return s;
}

std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string bytes_text(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

}  // namespace

ModelConfig read_model_config(const std::string& yaml_path) {
  ModelConfig config;
  try {
    config.lm = from_yaml_file<train::LMExperimentConfig>(yaml_path).model;
    return config;
  } catch (const ConfigError& e) {
    // An error inside the sections of an LM config is that file's error; anything else means the file
    // is laid out otherwise.
    for (const char* section : {"training", "model", "dataset"})
      if (e.key_path().rfind(std::string(section) + ".", 0) == 0) throw;
  }
  try {
    config.lm = from_yaml_file<xLSTMLMModelConfig>(yaml_path);
    return config;
  } catch (const ConfigError& lm_error) {
    try {
      config.large = from_yaml_file<xLSTMLargeConfig>(yaml_path);
      return config;
    } catch (const ConfigError& large_error) {
      throw std::runtime_error(yaml_path + " is neither an xLSTMLMModelConfig (" + lm_error.what() +
                               ") nor an xLSTMLargeConfig (" + large_error.what() + ")");
    }
  }
}

ModelSummary summarize(const ModelConfig& config) {
  return config.lm ? summarize_lm(*config.lm) : summarize_large(*config.large);
}

std::string format_summary(const ModelSummary& s) {
  std::string out = "model: " + s.family + ", " + std::to_string(s.blocks.size()) + " blocks\n";
  out += "parameters: " + with_commas(s.parameters) + " (embedding " + with_commas(s.embedding) + ", blocks " +
         with_commas(s.parameters - s.embedding - s.head - s.other) + ", " +
         (s.tied ? std::string("head tied to the embedding") : "head " + with_commas(s.head)) + ", other " +
         with_commas(s.other) + ")\n";
  out += "blocks:\n";
  for (size_t i = 0; i < s.blocks.size(); ++i) {
    char line[96];
    std::snprintf(line, sizeof(line), "  %3zu  %s  %s\n", i, s.blocks[i].kind.c_str(), with_commas(s.blocks[i].parameters).c_str());
    out += line;
  }
  const double n = static_cast<double>(s.parameters);
  out += "memory: weights " + bytes_text(4 * n) + " in fp32, " + bytes_text(2 * n) + " in bf16\n";
  out += "memory: training with AdamW " + bytes_text(16 * n) +
         " (fp32 weights, gradients and two moments; activations not included)\n";
  out += "memory: recurrent state " + bytes_text(static_cast<double>(s.state_bytes_per_sequence)) +
         " per sequence (fp32)\n";
  return out;
}

}  // namespace xlstm::cli
