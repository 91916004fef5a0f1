// The per-token choice of generation, shared by both model families (generate.h for xLSTMLarge,
// lm_generate.h for xLSTMLMModel): greedy or sampled (temperature, top-k, top-p), repetition penalty,
// seed, stop tokens, and the streaming callback's type.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

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
  int64_t vocab_limit = 0;           // > 0: only ids below it are chosen (a model vocabulary padded beyond
                                     // its tokenizer's, e.g. 50304 for GPT-2's 50257); 0 = all
};

// Called once per generated token, in order: all tokens of step t (ascending batch index) before
// those of step t + 1.
using TokenCallback = std::function<void(int64_t batch_index, int64_t token)>;

// One step's token choice, on logits' device without host sync: logits (B, V) -> ids (B) int64.
// `seen` (B, V) bool marks the tokens the repetition penalty applies to (undefined: none).
// `generator` drives sampling (undefined: the device's default generator).
torch::Tensor select_next_tokens(const torch::Tensor& logits, const GenerationConfig& config, const torch::Tensor& seen,
                                 const std::optional<torch::Generator>& generator);

// The logits select_next_tokens samples from: ids from vocab_limit on removed, repetition penalty;
// when sampling also temperature, top-k and top-p; removed tokens at -inf. fp32 (B, V).
torch::Tensor process_logits(const torch::Tensor& logits, const GenerationConfig& config, const torch::Tensor& seen);

// Checks every field of `config` for a vocabulary of `vocab_size` (std::invalid_argument).
void validate_generation_config(const GenerationConfig& config, int64_t vocab_size);

}  // namespace xlstm
