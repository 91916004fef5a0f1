// The shared token loop of generation (decode_loop.h): prompt checks, the prompt-token mask, the
// seeded generator and the choose / stream / stop / step loop.
#include "xlstm/decode_loop.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include <mutex>
#include <stdexcept>
#include <string>

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

}  // namespace

void check_generation_request(const std::vector<std::vector<int64_t>>& prompts, const GenerationConfig& config,
                              int64_t vocab_size) {
  validate_generation_config(config, vocab_size);
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

torch::Tensor prompt_token_mask(const std::vector<std::vector<int64_t>>& prompts, int64_t vocab_size,
                                const torch::Device& device) {
  auto mask = torch::zeros({static_cast<int64_t>(prompts.size()), vocab_size}, torch::kBool);
  auto a = mask.accessor<bool, 2>();
  for (std::size_t b = 0; b < prompts.size(); ++b)
    for (int64_t id : prompts[b]) a[static_cast<int64_t>(b)][id] = true;
  return mask.to(device);
}

std::vector<std::vector<int64_t>> decode_tokens(torch::Tensor logits, torch::Tensor seen, const GenerationConfig& config,
                                                const DecodeStep& step, const TokenCallback& on_token) {
  const auto device = logits.device();
  const int64_t B = logits.size(0);
  std::optional<torch::Generator> generator;
  if (config.do_sample && config.seed) generator = seeded_generator(device, *config.seed);
  if (config.repetition_penalty == 1.0) seen = torch::Tensor();
  const auto stops = torch::tensor(config.stop_tokens, torch::kLong).to(device);
  torch::Tensor finished_on_device;
  if (!config.stop_tokens.empty()) finished_on_device = torch::zeros({B}, torch::TensorOptions().dtype(torch::kBool).device(device));

  std::vector<std::vector<int64_t>> tokens(B);
  std::vector<bool> finished(B, false);
  int64_t running = B;
  for (int64_t t = 0; t < config.max_new_tokens; ++t) {
    const auto next = select_next_tokens(logits, config, seen, generator);  // (B) on the device
    const auto chosen = next.to(torch::kCPU);                              // the one sync of the step
    const int64_t* ids = chosen.data_ptr<int64_t>();
    for (int64_t b = 0; b < B; ++b) {
      if (finished[b]) continue;
      tokens[b].push_back(ids[b]);
      if (on_token) on_token(b, ids[b]);
      for (int64_t stop : config.stop_tokens)
        if (ids[b] == stop) finished[b] = true;
      if (finished[b]) --running;
    }
    if (running == 0 || t + 1 == config.max_new_tokens) break;

    if (seen.defined()) seen.scatter_(1, next.unsqueeze(1), true);
    if (finished_on_device.defined()) finished_on_device.logical_or_(torch::isin(next, stops));
    logits = step(next, finished_on_device);
  }
  return tokens;
}

}  // namespace xlstm
