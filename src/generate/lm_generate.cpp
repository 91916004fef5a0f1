// Generation with xLSTMLMModel: one prefill per prompt, the states stacked, then the shared token loop
// (decode_loop.h) with one step() of the whole batch per token.
#include "xlstm/lm_generate.h"

#include <tuple>

#include "xlstm/decode_loop.h"

namespace xlstm {

xLSTMStackState stack_states(const std::vector<xLSTMStackState>& states) {
  TORCH_CHECK(!states.empty(), "stack_states: no states");
  std::vector<xLSTMStackState> parts = states;  // shallow copies: state_tensors needs mutable states
  xLSTMStackState out(states.front().size());
  for (auto& s : parts)
    TORCH_CHECK(s.size() == out.size(), "stack_states: states of ", out.size(), " and ", s.size(), " blocks");
  for (size_t block = 0; block < out.size(); ++block) {
    auto targets = state_tensors(out[block]);
    for (size_t k = 0; k < targets.size(); ++k) {
      std::vector<torch::Tensor> pieces;
      for (auto& s : parts) {
        const torch::Tensor& piece = *state_tensors(s[block])[k].first;
        if (piece.defined()) pieces.push_back(piece);
      }
      TORCH_CHECK(pieces.empty() || pieces.size() == parts.size(), "stack_states: block ", block,
                  " has a state in some batches only");
      if (!pieces.empty()) *targets[k].first = torch::cat(pieces, targets[k].second);
    }
  }
  return out;
}

LMGenerationResult generate(xLSTMLMModel& model, const std::vector<std::vector<int64_t>>& prompts,
                            const GenerationConfig& config, const TokenCallback& on_token) {
  const int64_t vocab = model->config.vocab_size;
  check_generation_request(prompts, config, vocab);
  const auto device = model->token_embedding->weight.device();
  torch::NoGradGuard no_grad;

  // Prefill each prompt alone (ids already checked on the host), keep its last logits and its state.
  std::vector<torch::Tensor> last_logits;
  std::vector<xLSTMStackState> prompt_states;
  for (const auto& prompt : prompts) {
    const auto ids = torch::tensor(prompt, torch::kLong).unsqueeze(0).to(device);
    auto [logits, state] = model->forward(ids, {}, /*check_token_ids=*/false);
    last_logits.push_back(logits.select(1, logits.size(1) - 1));
    prompt_states.push_back(std::move(state));
  }
  LMGenerationResult result;
  result.state = stack_states(prompt_states);
  const auto step = [&](const torch::Tensor& next, const torch::Tensor&) {
    torch::Tensor logits;
    std::tie(logits, result.state) = model->step(next.unsqueeze(1), result.state, /*check_token_ids=*/false);
    return logits.select(1, 0);
  };
  const auto seen = config.repetition_penalty != 1.0 ? prompt_token_mask(prompts, vocab, device) : torch::Tensor();
  result.tokens = decode_tokens(torch::cat(last_logits, 0), seen, config, step, on_token);
  return result;
}

}  // namespace xlstm
