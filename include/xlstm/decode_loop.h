// The token loop shared by the generation of both model families (generate.h, lm_generate.h): from
// the logits after the prompts, choose a token per sequence (sampling.h), stream it, test the stop
// tokens, and feed the tokens back through the model's step until every sequence is finished or has
// max_new_tokens tokens. One host synchronisation per token: the read-back of the B chosen ids;
// sampling, the stop mask and the repetition-penalty bookkeeping stay on the logits' device.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "xlstm/sampling.h"

namespace xlstm {

// std::invalid_argument for a config value out of range (validate_generation_config), an empty
// batch, an empty prompt, or ids outside [0, vocab_size) (the message names the prompt and position).
void check_generation_request(const std::vector<std::vector<int64_t>>& prompts, const GenerationConfig& config,
                              int64_t vocab_size);

// (B, V) bool on `device`: true for the tokens of each prompt (the repetition penalty's start).
torch::Tensor prompt_token_mask(const std::vector<std::vector<int64_t>>& prompts, int64_t vocab_size,
                                const torch::Device& device);

// One model step: the chosen ids (B) int64 and, when the config has stop tokens, which sequences are
// finished (B) bool (undefined otherwise), both on the device -> the logits of the next position (B, V).
using DecodeStep = std::function<torch::Tensor(const torch::Tensor& next, const torch::Tensor& finished)>;

// The generated ids per sequence (no prompt). `logits` (B, V) are those after the prompts; `seen`
// (B, V) bool the prompt tokens when config.repetition_penalty != 1 (updated as tokens are chosen).
// The last chosen tokens are not fed to the model.
std::vector<std::vector<int64_t>> decode_tokens(torch::Tensor logits, torch::Tensor seen, const GenerationConfig& config,
                                                const DecodeStep& step, const TokenCallback& on_token);

}  // namespace xlstm
