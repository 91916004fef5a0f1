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
// Host synchronisation: one per generated token, the read-back of the B chosen ids (for the stop test
// and the callback); logit processing, sampling, the stop mask and the repetition-penalty bookkeeping
// stay on the model's device. Prompt ids are checked on the host before anything runs.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "xlstm/large/model.h"
#include "xlstm/large/state.h"

namespace xlstm {

struct GenerationConfig {
  int64_t max_new_tokens = 128;      // >= 0; tokens generated per sequence at most
  bool do_sample = false;            // false: greedy (argmax); true: sample from the processed distribution
  double temperature = 1.0;          // sampling: logits / temperature, > 0
  int64_t top_k = 0;                 // sampling: keep the k most likely tokens (ties at the k-th kept); 0 = all
  double top_p = 1.0;                // sampling: smallest set of most likely tokens with mass >= top_p, (0, 1]
  double repetition_penalty = 1.0;   // > 0; tokens of the prompt or generated so far: logit / p if > 0 else
                                     // logit * p (CTRL / Hugging Face); 1 = off; greedy too
  std::optional<uint64_t> seed;      // sampling: a generator seeded with it (reproducible); unset: the
                                     // device's default generator (torch::manual_seed)
  std::vector<int64_t> stop_tokens;  // a sequence ends with the first of these it generates (kept in its output)
};

// Called once per generated token, in order: all tokens of step t (ascending batch index) before
// those of step t + 1.
using TokenCallback = std::function<void(int64_t batch_index, int64_t token)>;

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

// One step's token choice, on logits' device without host sync: logits (B, V) -> ids (B) int64.
// `seen` (B, V) bool marks the tokens the repetition penalty applies to (undefined: none).
// `generator` drives sampling (undefined: the device's default generator).
torch::Tensor select_next_tokens(const torch::Tensor& logits, const GenerationConfig& config, const torch::Tensor& seen,
                                 const std::optional<torch::Generator>& generator);

// The logits select_next_tokens samples from: repetition penalty; when sampling also temperature,
// top-k and top-p, removed tokens at -inf. fp32 (B, V).
torch::Tensor process_logits(const torch::Tensor& logits, const GenerationConfig& config, const torch::Tensor& seen);

// Checks every field of `config` for a vocabulary of `vocab_size` (std::invalid_argument).
void validate_generation_config(const GenerationConfig& config, int64_t vocab_size);

}  // namespace xlstm
