// Language-model training and generation throughput of an xLSTMLMModel config (default: the 164M
// xLSTM[7:1] of configs/xlstm_164m.yaml, context 2048):
//   training    per --batch: random token windows of the context length, full training steps of the
//               library (train::train_step: autocast forward, fp32 loss, backward, clipping, AdamW
//               over fp32 master weights); --warmup steps, then --steps timed steps; tokens/s and the
//               peak memory of the CUDA caching allocator (allocated and reserved) from the first
//               warm-up step on. Out of memory is reported as such. --recompute on|off|both (default
//               both): with and/or without activation checkpointing of the blocks (recompute_blocks);
//               with both, a batch whose run without it exceeds --memory-budget GB (default 40) of
//               reserved memory and whose run with it does not gets a third row that recomputes only
//               the first N blocks (recompute_count), N estimated from the two runs' peaks; on CUDA such
//               a batch also runs with every mLSTM block recomputing its chunk states instead of
//               keeping them (recompute_chunk_states, blocks kept) and, where that fits and N of them
//               would too, with the first N (estimated likewise). A fitted row whose peak still exceeds
//               the budget is followed by one with N + 1.
//   generation  per --gen-batch: a random prompt of --prompt tokens prefilled by one forward pass,
//               then --gen-tokens greedy tokens through step(): eagerly, and on CUDA with the step
//               loop captured in a CUDA graph (lm_graph_decode.h); both token sequences are compared.
// On CUDA: bf16 autocast for training and bf16 weights for generation (states fp32); on the CPU fp32
// (--amp overrides). The config is an xLSTMLMModelConfig; small sizes for a CPU run come from --set
// (overrides of it) and --seq:
//   bench_lm_train --config configs/xlstm_lm_readme.yaml --set num_blocks=2 --set embedding_dim=32 --seq 16 \
//                  --batch 2 --steps 2 --gen-batch 1,2 --prompt 4 --gen-tokens 4
//
//   bench_lm_train [--config FILE] [--set key=value]... [--device auto|cuda|cpu] [--batch 4,16] [--seq S]
//                  [--warmup 3] [--steps 10] [--amp bfloat16|float32] [--gen-batch 1,16] [--prompt 128]
//                  [--gen-tokens 256] [--threads N] [--recompute both] [--memory-budget 40] [--profile-step]
//                  [--trace FILE]
// --profile-step runs one more training step per batch under the profiler and prints where its time
// goes (step_profile.h: GPU kernels and the ops that launched them on CUDA, outermost ops on the CPU);
// --trace FILE also writes its Chrome trace (one file per batch: FILE with the batch size appended).
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <xlstm/lm_model.h>
#include <xlstm/train/optimizer.h>
#include <xlstm/train/progress.h>
#include <xlstm/train/lm_training.h>
#include <xlstm/train/step.h>

#include "benchmarks/lm_graph_decode.h"
#include "benchmarks/step_profile.h"
#include "program_args.h"

#if XLSTM_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace {

using xlstm::train::format_thousands;

constexpr const char* kUsage =
    "usage: bench_lm_train [--config FILE] [--set key=value]... [--device auto|cuda|cpu] [--batch 4,16] [--seq S]\n"
    "                      [--warmup 3] [--steps 10] [--amp bfloat16|float32] [--gen-batch 1,16] [--prompt 128]\n"
    "                      [--gen-tokens 256] [--threads N] [--recompute on|off|both] [--memory-budget GB]\n"
    "                      [--profile-step] [--trace FILE]\n";

using xlstm_examples::parse_int;
using xlstm_examples::UsageError;

struct Args {
  std::string config = "configs/xlstm_164m.yaml";
  std::vector<std::string> overrides;
  std::string device = "auto", amp;
  std::vector<int64_t> batches{4, 16}, gen_batches{1, 16};
  int64_t seq = 0, warmup = 3, steps = 10, prompt = 128, gen_tokens = 256, threads = 0;
  std::vector<bool> recompute{false, true};
  double memory_budget_gb = 40;
  bool profile = false;
  std::string trace;
};

std::vector<int64_t> parse_list(const std::string& flag, const std::string& text) {
  std::vector<int64_t> values;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) values.push_back(parse_int(flag, item, 1));
  if (values.empty()) throw UsageError(flag + ": no values");
  return values;
}

Args parse_args(int argc, char** argv) {
  Args a;
  xlstm_examples::for_each_arg(argc, argv, kUsage, [&](const std::string& flag, const std::function<std::string()>& value) {
    if (flag == "--config") a.config = value();
    else if (flag == "--set") a.overrides.push_back(value());
    else if (flag == "--device") a.device = value();
    else if (flag == "--amp") a.amp = value();
    else if (flag == "--batch") a.batches = parse_list(flag, value());
    else if (flag == "--gen-batch") a.gen_batches = parse_list(flag, value());
    else if (flag == "--seq") a.seq = parse_int(flag, value(), 1);
    else if (flag == "--warmup") a.warmup = parse_int(flag, value(), 0);
    else if (flag == "--steps") a.steps = parse_int(flag, value(), 1);
    else if (flag == "--prompt") a.prompt = parse_int(flag, value(), 1);
    else if (flag == "--gen-tokens") a.gen_tokens = parse_int(flag, value(), 1);
    else if (flag == "--threads") a.threads = parse_int(flag, value(), 1);
    else if (flag == "--recompute") {
      const std::string v = value();
      if (v == "on") a.recompute = {true};
      else if (v == "off") a.recompute = {false};
      else if (v == "both") a.recompute = {false, true};
      else throw UsageError("--recompute: '" + v + "' is not on, off or both");
    } else if (flag == "--memory-budget") {
      a.memory_budget_gb = static_cast<double>(parse_int(flag, value(), 1));
    } else if (flag == "--profile-step") a.profile = true;
    else if (flag == "--trace") a.trace = value();
    else throw UsageError("unknown flag '" + flag + "'");
  });
  if (a.device != "auto" && a.device != "cuda" && a.device != "cpu") throw UsageError("--device: '" + a.device + "' is not auto, cuda or cpu");
  if (!a.amp.empty() && a.amp != "bfloat16" && a.amp != "float32") throw UsageError("--amp: '" + a.amp + "' is not bfloat16 or float32");
  if (!a.trace.empty()) a.profile = true;
  return a;
}

std::string device_name(const torch::Device& device) {
#if XLSTM_WITH_CUDA
  if (device.is_cuda()) return device.str() + " (" + at::cuda::getDeviceProperties(device.index())->name + ")";
#endif
  return device.str();
}

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string gib(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  return text;
}

// Peak allocated and reserved bytes of the caching allocator since the last reset ("-" on the CPU).
struct Peak {
  std::string allocated = "-", reserved = "-";
  double reserved_bytes = 0;
};

void reset_peak(const torch::Device& device) {
#if XLSTM_WITH_CUDA
  if (device.is_cuda()) {
    c10::cuda::CUDACachingAllocator::emptyCache();
    c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
  }
#endif
}

Peak read_peak(const torch::Device& device) {
  Peak p;
#if XLSTM_WITH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    const auto all = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    p.allocated = gib(static_cast<double>(stats.allocated_bytes[all].peak));
    p.reserved_bytes = static_cast<double>(stats.reserved_bytes[all].peak);
    p.reserved = gib(p.reserved_bytes);
  }
#endif
  return p;
}

struct TrainRow {
  std::string text;
  double reserved_bytes = -1;  // peak reserved; -1: out of memory
};

// The mLSTM blocks of a stack, and how many of them recompute their chunk states.
std::pair<int64_t, int64_t> chunk_state_recompute(const xlstm::xLSTMBlockStack& stack) {
  int64_t mlstm = 0, recomputed = 0;
  for (size_t i = 0; i < stack->blocks->size(); ++i) {
    const auto block = stack->block(i);
    if (block->is_slstm()) continue;
    ++mlstm;
    recomputed += !block->mlstm_layer->mlstm_cell->keep_chunk_states;
  }
  return {mlstm, recomputed};
}

// The recompute column: off, on (every block), the first N of the blocks, or the chunk states of the
// first N of the mLSTM blocks.
std::string recompute_label(const xlstm::xLSTMBlockStack& stack) {
  const auto blocks = static_cast<int64_t>(stack->blocks->size());
  const auto [mlstm, states] = chunk_state_recompute(stack);
  if (!stack->recompute_blocks && states > 0)
    return "chunk states of " +
           (states == mlstm ? "all " + std::to_string(mlstm) : std::to_string(states) + " of " + std::to_string(mlstm));
  if (!stack->recompute_blocks) return "off";
  if (stack->recompute_count < 0 || stack->recompute_count >= blocks) return "on";
  return std::to_string(stack->recompute_count) + " of " + std::to_string(blocks);
}

// One training row: batch, recompute, tokens per step, step time, tokens/s, peak memory; with
// --profile-step the profile of one more step goes to `profile`.
TrainRow train_row(xlstm::xLSTMLMModel& model, const Args& args, int64_t B, int64_t S, const torch::Device& device,
                   std::optional<torch::ScalarType> amp, std::string& profile) {
  const int64_t V = model->config.vocab_size;
  const auto opts = torch::TensorOptions().dtype(torch::kLong).device(device);
  const auto window = torch::randint(0, V, {B, S + 1}, opts);
  const xlstm::data::Batch batch{window.narrow(1, 0, S), window.narrow(1, 1, S)};
  xlstm::train::TrainingConfig tc;
  tc.lr = 1e-3;
  auto trainable = xlstm::train::trainable(model);
  const xlstm::train::StepOptions step{tc.lr, 1.0, amp, -100};
  const std::string label = recompute_label(model->xlstm_block_stack);
  const char* recompute = label.c_str();
  char row[256];
  double reserved_bytes = -1;
  reset_peak(device);
  try {
    auto optimizer = xlstm::train::make_adamw(*model, tc, false);
    for (int64_t i = 0; i < args.warmup; ++i) xlstm::train::train_step(trainable, *optimizer, batch, step);
    synchronize(device);
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < args.steps; ++i) xlstm::train::train_step(trainable, *optimizer, batch, step);
    synchronize(device);
    const double per_step = seconds_since(t0) / static_cast<double>(args.steps);
    const Peak peak = read_peak(device);
    reserved_bytes = peak.reserved_bytes;
    if (args.profile) {
      const auto prof = xlstm_bench::profile_step(
          [&] {
            xlstm::train::train_step(trainable, *optimizer, batch, step);
            synchronize(device);
          },
          device.is_cuda(), args.trace.empty() ? "" : args.trace + "." + std::to_string(B) + ".json");
      profile += "\none training step at batch " + std::to_string(B) + ", recompute " + recompute + " (" +
                 std::to_string(per_step * 1e3) + " ms untraced):\n\n" +
                 xlstm_bench::profile_table(prof.activities, 25, device.is_cuda() ? "GPU activity" : "CPU op (outermost)");
      if (device.is_cuda())
        profile += "\nthe same GPU time by the launching op (outermost > innermost):\n\n" +
                   xlstm_bench::profile_table(prof.by_op, 40, "launching op");
    }
    std::snprintf(row, sizeof row, "| %lld | %s | %s | %.1f | %s | %s | %s |\n", static_cast<long long>(B), recompute,
                  format_thousands(static_cast<double>(B * S)).c_str(), per_step * 1e3,
                  format_thousands(static_cast<double>(B * S) / per_step).c_str(), peak.allocated.c_str(),
                  peak.reserved.c_str());
  } catch (const c10::OutOfMemoryError&) {
    std::snprintf(row, sizeof row, "| %lld | %s | %s | out of memory | - | - | - |\n", static_cast<long long>(B),
                  recompute, format_thousands(static_cast<double>(B * S)).c_str());
  }
  model->zero_grad(/*set_to_none=*/true);
  reset_peak(device);
  return {row, reserved_bytes};
}

// The fewest first blocks to recompute (whole blocks, or their chunk states) for a peak within `budget`
// bytes, from the peaks without and with recomputing in every block (each block saving the same);
// nullopt when recomputing nothing fits, everything does not, or the estimate is every block.
std::optional<int64_t> blocks_to_recompute(double off_bytes, double on_bytes, double budget, int64_t blocks) {
  if (on_bytes < 0 || on_bytes > budget || (off_bytes >= 0 && off_bytes <= budget)) return std::nullopt;
  if (off_bytes < 0) return std::nullopt;  // out of memory without: no estimate
  const double per_block = (off_bytes - on_bytes) / static_cast<double>(blocks);
  const auto n = static_cast<int64_t>(std::ceil((off_bytes - budget) / per_block));
  return n > 0 && n < blocks ? std::optional<int64_t>(n) : std::nullopt;
}

// One generation row: batch, prefill time, eager tokens/s, CUDA-graph tokens/s, whether both agree.
std::string generation_row(xlstm::xLSTMLMModel& model, const Args& args, int64_t B, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  const int64_t V = model->config.vocab_size, N = args.gen_tokens;
  const auto prompt = torch::randint(0, V, {B, args.prompt}, torch::TensorOptions().dtype(torch::kLong).device(device));
  synchronize(device);
  auto t0 = std::chrono::steady_clock::now();
  const auto [logits, prefilled] = model->forward(prompt, {}, /*check_token_ids=*/false);
  const auto first = logits.select(1, args.prompt - 1).argmax(-1, /*keepdim=*/true);
  synchronize(device);
  const double prefill_s = seconds_since(t0);

  std::vector<torch::Tensor> eager_tokens;
  auto ids = first;
  auto state = prefilled;
  t0 = std::chrono::steady_clock::now();
  for (int64_t t = 0; t < N; ++t) {
    torch::Tensor step_logits;
    std::tie(step_logits, state) = model->step(ids, state, /*check_token_ids=*/false);
    ids = step_logits.argmax(-1);
    eager_tokens.push_back(ids);
  }
  synchronize(device);
  const double eager_s = seconds_since(t0);

  std::string graph = "n/a (CPU)", same = "-";
#if XLSTM_WITH_CUDA
  if (device.is_cuda()) {
    xlstm_bench::GraphDecoder decoder(model, prefilled, first);
    decoder.reset(prefilled, first);
    std::vector<torch::Tensor> graph_tokens;
    for (int64_t t = 0; t < N; ++t) {  // the check run: keep every token
      decoder.replay();
      graph_tokens.push_back(decoder.ids().clone());
    }
    const bool equal = torch::equal(torch::cat(graph_tokens, 1), torch::cat(eager_tokens, 1));
    decoder.reset(prefilled, first);
    synchronize(device);
    t0 = std::chrono::steady_clock::now();
    for (int64_t t = 0; t < N; ++t) decoder.replay();
    synchronize(device);
    graph = format_thousands(static_cast<double>(B * N) / seconds_since(t0));
    same = equal ? "yes" : "no";
  }
#endif
  char row[256];
  std::snprintf(row, sizeof row, "| %lld | %.1f | %s | %s | %s |\n", static_cast<long long>(B), prefill_s * 1e3,
                format_thousands(static_cast<double>(B * N) / eager_s).c_str(), graph.c_str(), same.c_str());
  return row;
}

int run(const Args& args) {
  if (args.threads > 0) torch::set_num_threads(static_cast<int>(args.threads));
  const bool cuda = args.device == "cuda" || (args.device == "auto" && torch::cuda::is_available());
  if (cuda && !torch::cuda::is_available()) throw std::runtime_error("--device cuda: no CUDA device is available");
  const torch::Device device = cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  const std::string amp_name = !args.amp.empty() ? args.amp : cuda ? "bfloat16" : "float32";
  const auto amp = amp_name == "bfloat16" ? std::optional<torch::ScalarType>(torch::kBFloat16) : std::nullopt;

  const auto config = xlstm::from_yaml_file<xlstm::xLSTMLMModelConfig>(args.config, args.overrides);
  const int64_t S = args.seq > 0 ? args.seq : config.context_length;
  if (S < 1) throw UsageError("--seq is needed: the config has no context_length");
  torch::manual_seed(0);
  xlstm::xLSTMLMModel model(config);
  model->reset_parameters();
  model->to(device);
  std::printf("bench_lm_train: %s %s parameters (%lld blocks, E %lld, vocabulary %lld) from %s | %s\n",
              xlstm::train::xlstm_model_name(config).c_str(),
              format_thousands(static_cast<double>(xlstm::train::parameter_count(*model))).c_str(),
              static_cast<long long>(config.num_blocks), static_cast<long long>(config.embedding_dim),
              static_cast<long long>(config.vocab_size), args.config.c_str(), device_name(device).c_str());
  std::printf("\ntraining: S %lld, %s, fp32 master weights, AdamW + clipping, %lld warm-up + %lld timed steps\n\n",
              static_cast<long long>(S), amp ? "bf16 autocast" : "fp32 (no autocast)", static_cast<long long>(args.warmup),
              static_cast<long long>(args.steps));
  std::printf("| batch | recompute | tokens/step | ms/step | tokens/s | peak allocated | peak reserved |\n"
              "|---:|---|---:|---:|---:|---:|---:|\n");
  std::fflush(stdout);
  model->train();
  std::string profiles;
  auto& stack = model->xlstm_block_stack;
  std::vector<std::vector<double>> peaks(2, std::vector<double>(args.batches.size(), -1));
  const auto run_row = [&](int64_t B, bool recompute, int64_t count, int64_t chunk_states = 0) {
    stack->recompute_blocks = recompute;
    stack->recompute_count = count;
    stack->recompute_chunk_states(chunk_states);
    const TrainRow row = train_row(model, args, B, S, device, amp, profiles);
    std::fputs(row.text.c_str(), stdout);
    std::fflush(stdout);
    return row.reserved_bytes;
  };
  // From the estimated count on, one more while the row's peak still exceeds the budget (the peak is not
  // quite linear in the count: the caching allocator's blocks).
  const double budget = args.memory_budget_gb * 1e9;
  const auto fit = [&](int64_t n, int64_t limit, const std::function<double(int64_t)>& row) {
    while (row(n) > budget && ++n < limit) {
    }
  };
  for (const bool recompute : args.recompute)
    for (size_t b = 0; b < args.batches.size(); ++b) peaks[recompute][b] = run_row(args.batches[b], recompute, -1);
  if (cuda && args.recompute.size() == 2)
    for (size_t b = 0; b < args.batches.size(); ++b)
      if (const auto n = blocks_to_recompute(peaks[0][b], peaks[1][b], budget, config.num_blocks))
        fit(*n, config.num_blocks, [&](int64_t k) { return run_row(args.batches[b], true, k); });
  const int64_t mlstm_blocks = chunk_state_recompute(stack).first;
  if (cuda && args.recompute.size() == 2 && mlstm_blocks > 0)
    for (size_t b = 0; b < args.batches.size(); ++b) {
      if (peaks[0][b] >= 0 && peaks[0][b] <= budget) continue;
      const double all = run_row(args.batches[b], false, -1, -1);
      if (const auto n = blocks_to_recompute(peaks[0][b], all, budget, mlstm_blocks))
        fit(*n, mlstm_blocks, [&](int64_t k) { return run_row(args.batches[b], false, -1, k); });
    }
  stack->recompute_blocks = false;
  stack->recompute_count = -1;
  stack->recompute_chunk_states(0);
  std::fputs(profiles.c_str(), stdout);

  model->eval();
  if (cuda) model->to(torch::kBFloat16);
  std::printf("\ngeneration: prompt %lld, %lld greedy tokens, %s weights, fp32 states\n\n",
              static_cast<long long>(args.prompt), static_cast<long long>(args.gen_tokens), cuda ? "bf16" : "fp32");
  std::printf("| batch | prefill ms | eager tokens/s | CUDA graph tokens/s | same tokens |\n|---:|---:|---:|---:|---|\n");
  for (int64_t B : args.gen_batches) {
    std::fputs(generation_row(model, args, B, device).c_str(), stdout);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return xlstm_examples::exit_status_of(kUsage, [&] { return run(parse_args(argc, argv)); });
}
