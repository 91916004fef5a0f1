// Token generation with xLSTMLMModel, with the token choice (sampling.h) and the token loop
// (decode_loop.h) of xLSTMLarge's generate.h: greedy or sampled (temperature, top-k, top-p, repetition
// penalty, seed), a batch of prompts of different lengths, per-sequence stop tokens, streaming.
//
// How a batch runs: the model has no padding mask, so each prompt is prefilled by a forward call of
// its own; the states after the prompts are stacked into one batch (stack_states), and then every
// token is one step() of the whole batch. A sequence that produced a stop token gets no more tokens;
// its row keeps stepping (with its chosen tokens) until the batch is done, and that output is dropped.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "xlstm/lm_model.h"
#include "xlstm/sampling.h"
#include "xlstm/state.h"

namespace xlstm {

struct LMGenerationResult {
  std::vector<std::vector<int64_t>> tokens;  // per prompt, the generated ids (no prompt)
  // After the prompts and all generated tokens but the last of the longest sequence (rows of sequences
  // that stopped early have run on).
  xLSTMStackState state;
};

// std::invalid_argument for an empty batch, an empty prompt, ids or stop tokens outside
// [0, vocab_size), or a config value out of range (the message names the field and value). Runs on
// the model's device in the model's dtype.
LMGenerationResult generate(xLSTMLMModel& model, const std::vector<std::vector<int64_t>>& prompts,
                            const GenerationConfig& config = {}, const TokenCallback& on_token = {});

// States of separate batches (each a model state, same blocks) stacked along the batch dimension.
xLSTMStackState stack_states(const std::vector<xLSTMStackState>& states);

}  // namespace xlstm
