// The generation loop: left-padded, masked prefill of all prompts, then one step per token with the
// stop test on the device and one read-back of the chosen ids per step.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include <mutex>
#include <stdexcept>
#include <string>

#include "xlstm/generate.h"

namespace xlstm {

namespace {

// A fresh generator on `device` seeded with `seed` (the CPU one or the device backend's).
torch::Generator seeded_generator(const torch::Device& device, uint64_t seed) {
  auto gen = device.is_cpu() ? at::detail::createCPUGenerator(seed)
                             : at::globalContext().getAcceleratorHooksInterface(device.type()).getNewGenerator(device.index());
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(seed);
  return gen;
}

void check_prompts(const std::vector<std::vector<int64_t>>& prompts, int64_t vocab_size) {
  if (prompts.empty()) throw std::invalid_argument("generate: no prompts");
  for (std::size_t b = 0; b < prompts.size(); ++b) {
    if (prompts[b].empty()) throw std::invalid_argument("generate: prompt " + std::to_string(b) + " is empty");
    for (std::size_t t = 0; t < prompts[b].size(); ++t)
      if (prompts[b][t] < 0 || prompts[b][t] >= vocab_size)
        throw std::invalid_argument("generate: prompt " + std::to_string(b) + ", position " + std::to_string(t) +
                                    ": token id " + std::to_string(prompts[b][t]) + " is outside [0, " +
                                    std::to_string(vocab_size) + ")");
  }
}

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
  validate_generation_config(config, vocab);
  check_prompts(prompts, vocab);
  const auto device = model->embedding->weight.device();
  const int64_t B = static_cast<int64_t>(prompts.size());
  torch::NoGradGuard no_grad;

  // Prefill: one inference-mode forward over the padded batch (ids already checked on the host).
  const auto batch = left_pad(prompts);
  const auto ids = batch.ids.to(device), mask = batch.mask.to(device);
  large::ForwardOptions options;
  options.mode = large::BackendMode::inference;
  options.check_token_ids = false;
  if (batch.padded) options.mask = mask;
  auto [logits, state] = model->forward(ids, {}, options);
  auto last = logits.select(1, logits.size(1) - 1);

  // Tokens the repetition penalty applies to: the prompt's (padding scattered into an extra column).
  torch::Tensor seen;
  if (config.repetition_penalty != 1.0)
    seen = torch::zeros({B, vocab + 1}, torch::TensorOptions().dtype(torch::kBool).device(device))
               .scatter_(1, torch::where(mask, ids, vocab), true)
               .narrow(1, 0, vocab);
  std::optional<torch::Generator> generator;
  if (config.do_sample && config.seed) generator = seeded_generator(device, *config.seed);
  const auto stops = torch::tensor(config.stop_tokens, torch::kLong).to(device);
  auto finished_on_device = torch::zeros({B}, torch::TensorOptions().dtype(torch::kBool).device(device));

  GenerationResult result;
  result.tokens.resize(B);
  std::vector<bool> finished(B, false);
  int64_t running = B;
  options.mask = torch::Tensor();
  for (int64_t t = 0; t < config.max_new_tokens; ++t) {
    const auto next = select_next_tokens(last, config, seen, generator);  // (B) on the device
    const auto chosen = next.to(torch::kCPU);                            // the one sync of the step
    const int64_t* ids_host = chosen.data_ptr<int64_t>();
    for (int64_t b = 0; b < B; ++b) {
      if (finished[b]) continue;
      result.tokens[b].push_back(ids_host[b]);
      if (on_token) on_token(b, ids_host[b]);
      for (int64_t stop : config.stop_tokens)
        if (ids_host[b] == stop) finished[b] = true;
      if (finished[b]) --running;
    }
    if (running == 0 || t + 1 == config.max_new_tokens) break;

    if (seen.defined()) seen.scatter_(1, next.unsqueeze(1), true);
    if (!config.stop_tokens.empty()) {
      finished_on_device.logical_or_(torch::isin(next, stops));
      options.mask = finished_on_device.logical_not().unsqueeze(1);  // finished: state frozen
    }
    std::tie(logits, state) = model->forward(next.unsqueeze(1), state, options);
    last = logits.select(1, 0);
  }
  result.state = std::move(state);
  return result;
}

}  // namespace xlstm
