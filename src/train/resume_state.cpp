// Checkpoint metadata of the trainer: interval sums as exact decimal text, generator states as hex.
#include "resume_state.h"

#include <ATen/Context.h>

#include <cstdio>
#include <stdexcept>

#include "xlstm/io/safetensors.h"

namespace xlstm::train {
namespace {

std::string hex(const torch::Tensor& bytes) {
  static const char* digits = "0123456789abcdef";
  const auto cpu = bytes.contiguous().to(torch::kCPU);
  const auto* p = cpu.data_ptr<uint8_t>();
  std::string text;
  for (int64_t i = 0; i < cpu.numel(); ++i) text += {digits[p[i] >> 4], digits[p[i] & 15]};
  return text;
}

torch::Tensor unhex(const std::string& text, const std::string& what) {
  if (text.size() % 2) throw CheckpointError(what + " is not hexadecimal");
  auto bytes = torch::empty({static_cast<int64_t>(text.size() / 2)}, torch::kUInt8);
  auto* p = bytes.data_ptr<uint8_t>();
  const auto value = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw CheckpointError(what + " is not hexadecimal");
  };
  for (size_t i = 0; i < text.size(); i += 2) p[i / 2] = static_cast<uint8_t>(value(text[i]) * 16 + value(text[i + 1]));
  return bytes;
}

std::string exact(double value) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

at::Generator generator_of(const torch::Device& device) { return at::globalContext().defaultGenerator(device); }

}  // namespace

std::map<std::string, std::string> resume_metadata(const ResumeState& state, const torch::Device& device) {
  const IntervalSums& sums = state.sums;
  std::map<std::string, std::string> m{{"elapsed_s", exact(state.elapsed_seconds)},
                                       {"interval_loss_sum", exact(sums.loss)},
                                       {"interval_correct", std::to_string(sums.correct)},
                                       {"interval_count", std::to_string(sums.count)},
                                       {"interval_steps", std::to_string(sums.steps)},
                                       {"interval_tokens", std::to_string(sums.tokens)},
                                       {"cpu_rng_state", hex(generator_of(torch::kCPU).get_state())}};
  if (!device.is_cpu()) m["device_rng_state"] = hex(generator_of(device).get_state());
  return m;
}

ResumeState restore_from_metadata(const std::map<std::string, std::string>& m, const torch::Device& device,
                                   const std::string& dir) {
  const auto get = [&](const std::string& key) -> const std::string& {
    const auto it = m.find(key);
    if (it == m.end()) throw CheckpointError(dir + ": trainer.json metadata has no \"" + key + "\"");
    return it->second;
  };
  const auto number = [&](const std::string& key) {
    try {
      size_t used = 0;
      const double value = std::stod(get(key), &used);
      if (used != get(key).size()) throw std::invalid_argument(key);
      return value;
    } catch (const std::logic_error&) {
      throw CheckpointError(dir + ": trainer.json metadata \"" + key + "\" is not a number: " + get(key));
    }
  };
  ResumeState state;
  state.elapsed_seconds = number("elapsed_s");
  IntervalSums& sums = state.sums;
  sums.loss = number("interval_loss_sum");
  sums.correct = static_cast<int64_t>(number("interval_correct"));
  sums.count = static_cast<int64_t>(number("interval_count"));
  sums.steps = static_cast<int64_t>(number("interval_steps"));
  sums.tokens = static_cast<int64_t>(number("interval_tokens"));
  const auto set_state = [&](const torch::Device& d, const std::string& key) {
    try {
      generator_of(d).set_state(unhex(get(key), dir + ": trainer.json metadata \"" + key + "\""));
    } catch (const c10::Error& e) {
      throw CheckpointError(dir + ": trainer.json metadata \"" + key + "\" is not a generator state: " +
                                e.what_without_backtrace());
    }
  };
  set_state(torch::kCPU, "cpu_rng_state");
  if (!device.is_cpu()) set_state(device, "device_rng_state");
  return state;
}

void move_optimizer_state(torch::optim::Optimizer& optimizer, const torch::Device& device) {
  if (device.is_cpu()) return;
  for (auto& [key, state] : optimizer.state()) {
    if (auto* adamw = dynamic_cast<torch::optim::AdamWParamState*>(state.get())) {
      adamw->exp_avg(adamw->exp_avg().to(device));
      adamw->exp_avg_sq(adamw->exp_avg_sq().to(device));
      if (adamw->max_exp_avg_sq().defined()) adamw->max_exp_avg_sq(adamw->max_exp_avg_sq().to(device));
    }
  }
}

}  // namespace xlstm::train
