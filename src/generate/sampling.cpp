// The per-step token choice of generation: repetition penalty, temperature, top-k, top-p, then argmax
// (greedy) or a sample, all on the logits' device.
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "xlstm/sampling.h"

namespace xlstm {

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& value, const std::string& rule) {
  throw std::invalid_argument("GenerationConfig." + field + ": " + value + " " + rule);
}

std::string number_text(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

void validate_generation_config(const GenerationConfig& config, int64_t vocab_size) {
  if (config.max_new_tokens < 0) bad("max_new_tokens", std::to_string(config.max_new_tokens), "must be >= 0");
  if (!(config.temperature > 0) || !std::isfinite(config.temperature))
    bad("temperature", number_text(config.temperature), "must be a positive number (do_sample = false is greedy)");
  if (config.top_k < 0) bad("top_k", std::to_string(config.top_k), "must be >= 0 (0 keeps every token)");
  if (!(config.top_p > 0 && config.top_p <= 1)) bad("top_p", number_text(config.top_p), "must lie in (0, 1]");
  if (!(config.repetition_penalty > 0) || !std::isfinite(config.repetition_penalty))
    bad("repetition_penalty", number_text(config.repetition_penalty), "must be a positive number (1 = off)");
  if (config.vocab_limit < 0 || config.vocab_limit > vocab_size)
    bad("vocab_limit", std::to_string(config.vocab_limit),
        "is not in [0, " + std::to_string(vocab_size) + "] (0 = no limit)");
  for (int64_t t : config.stop_tokens)
    if (t < 0 || t >= vocab_size)
      bad("stop_tokens", std::to_string(t), "is not a token id in [0, " + std::to_string(vocab_size) + ")");
}

torch::Tensor process_logits(const torch::Tensor& logits, const GenerationConfig& config, const torch::Tensor& seen) {
  TORCH_CHECK(logits.dim() == 2, "process_logits: logits must be (B, V), got ", logits.sizes());
  auto x = logits.to(torch::kFloat32);
  const double inf = std::numeric_limits<double>::infinity();
  const int64_t V = x.size(-1);
  if (config.vocab_limit > 0 && config.vocab_limit < V) {
    const auto long_ids = torch::TensorOptions().dtype(torch::kLong).device(x.device());
    const auto beyond = torch::arange(config.vocab_limit, V, long_ids);
    x = x.index_fill(-1, beyond, -inf);
  }
  if (config.repetition_penalty != 1.0 && seen.defined()) {
    const double p = config.repetition_penalty;
    x = torch::where(seen, torch::where(x > 0, x / p, x * p), x);
  }
  if (!config.do_sample) return x;
  if (config.temperature != 1.0) x = x / config.temperature;
  if (config.top_k > 0 && config.top_k < V) {
    const auto kth = std::get<0>(x.topk(config.top_k, -1)).narrow(-1, config.top_k - 1, 1);
    x = x.masked_fill(x < kth, -inf);
  }
  if (config.top_p < 1.0) {
    const auto [sorted, order] = x.sort(-1, /*descending=*/true);
    const auto probs = sorted.softmax(-1);
    const auto mass_before = probs.cumsum(-1) - probs;  // of the more likely tokens
    const auto drop_sorted = mass_before >= config.top_p;  // the most likely token always stays
    x = x.masked_fill(torch::zeros_like(drop_sorted).scatter(-1, order, drop_sorted), -inf);
  }
  return x;
}

torch::Tensor select_next_tokens(const torch::Tensor& logits, const GenerationConfig& config, const torch::Tensor& seen,
                                 const std::optional<torch::Generator>& generator) {
  const auto x = process_logits(logits, config, seen);
  if (!config.do_sample) return x.argmax(-1);
  // Exponential race: argmax_i p_i / E_i with E_i ~ Exp(1) is a draw from p (no host sync, unlike
  // multinomial's checks). E is kept away from 0 so that removed tokens (p = 0) never win.
  const auto probs = x.softmax(-1);
  const auto race = torch::empty_like(probs).exponential_(1.0, generator).clamp_min_(std::numeric_limits<float>::min());
  return (probs / race).argmax(-1);
}

}  // namespace xlstm
