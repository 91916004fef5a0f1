// Generation with xLSTMLarge: left-padded, masked prefill of all prompts, then the shared token loop
// (decode_loop.h) with one masked step per token.
#include "xlstm/generate.h"

#include <algorithm>
#include <tuple>

#include "xlstm/decode_loop.h"

namespace xlstm {

namespace {

// The prompts left-padded to the longest (padding id 0), with the mask of real tokens.
struct PaddedBatch {
  torch::Tensor ids, mask;  // (B, S) int64, bool; on the CPU
  bool padded = false;      // some prompt is shorter than the longest
};

PaddedBatch left_pad(const std::vector<std::vector<int64_t>>& prompts) {
  std::size_t longest = 0;
  for (const auto& p : prompts) longest = std::max(longest, p.size());
  const int64_t B = static_cast<int64_t>(prompts.size()), S = static_cast<int64_t>(longest);
  PaddedBatch batch{torch::zeros({B, S}, torch::kLong), torch::zeros({B, S}, torch::kBool)};
  auto ids = batch.ids.accessor<int64_t, 2>();
  auto mask = batch.mask.accessor<bool, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t offset = S - static_cast<int64_t>(prompts[b].size());
    batch.padded = batch.padded || offset > 0;
    for (std::size_t t = 0; t < prompts[b].size(); ++t) {
      ids[b][offset + static_cast<int64_t>(t)] = prompts[b][t];
      mask[b][offset + static_cast<int64_t>(t)] = true;
    }
  }
  return batch;
}

}  // namespace

GenerationResult generate(large::xLSTMLarge& model, const std::vector<std::vector<int64_t>>& prompts,
                          const GenerationConfig& config, const TokenCallback& on_token) {
  const int64_t vocab = model->config.vocab_size;
  check_generation_request(prompts, config, vocab);
  const auto device = model->embedding->weight.device();
  torch::NoGradGuard no_grad;

  // Prefill: one inference-mode forward over the padded batch (ids already checked on the host).
  const auto batch = left_pad(prompts);
  large::ForwardOptions options;
  options.mode = large::BackendMode::inference;
  options.check_token_ids = false;
  if (batch.padded) options.mask = batch.mask.to(device);
  torch::Tensor logits;
  large::xLSTMLargeState state;
  std::tie(logits, state) = model->forward(batch.ids.to(device), {}, options);

  // Each step: finished sequences are masked, so their state stays as it was.
  const auto step = [&](const torch::Tensor& next, const torch::Tensor& finished) {
    options.mask = finished.defined() ? finished.logical_not().unsqueeze(1) : torch::Tensor();
    torch::Tensor step_logits;
    std::tie(step_logits, state) = model->forward(next.unsqueeze(1), state, options);
    return step_logits.select(1, 0);
  };
  GenerationResult result;
  const auto seen = config.repetition_penalty != 1.0 ? prompt_token_mask(prompts, vocab, device) : torch::Tensor();
  result.tokens = decode_tokens(logits.select(1, logits.size(1) - 1), seen, config, step, on_token);
  result.state = std::move(state);
  return result;
}

}  // namespace xlstm
