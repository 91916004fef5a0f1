// Token generation with xLSTMLarge: greedy or sampled (temperature, top-k, top-p, repetition
// penalty, seed), for a batch of prompts of different lengths, with per-sequence stop tokens and a
// streaming callback.
//
// How a batch runs: the prompts are left-padded to the longest one and prefilled in ONE forward call
// in inference mode (chunkwise + recurrent tail) with a padding mask. At padding positions the mLSTM
// input gate is closed and the forget gate open, so every sequence's state after its prompt is the
// state it gets alone (exactly at the padding; the chunk boundaries differ, so outputs agree to
// rounding, ~1e-6 relative). Then one step per token for the whole batch. A sequence that produced a
// stop token is finished: it gets no more tokens, and from then on it is masked in the batch, so its
// state stays as it was.
//
// The token choice (GenerationConfig) is sampling.h's and the loop decode_loop.h's, shared with the
// generation of xLSTMLMModel (lm_generate.h): one host synchronisation per generated token. Prompt ids
// are checked on the host before anything runs.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "xlstm/large/model.h"
#include "xlstm/large/state.h"
#include "xlstm/sampling.h"

namespace xlstm {

struct GenerationResult {
  std::vector<std::vector<int64_t>> tokens;  // per prompt, the generated ids (no prompt)
  // Per-block state after the prompt and all generated tokens but the last of each sequence (the last
  // one was never fed to the model): feed it to continue.
  large::xLSTMLargeState state;
};

// Throws std::invalid_argument for an empty batch, an empty prompt, ids or stop tokens outside
// [0, vocab_size), or a config value out of range (the message names the field and value).
GenerationResult generate(large::xLSTMLarge& model, const std::vector<std::vector<int64_t>>& prompts,
                          const GenerationConfig& config = {}, const TokenCallback& on_token = {});

}  // namespace xlstm
