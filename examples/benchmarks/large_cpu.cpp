// xLSTM-Large inference benchmark: prefill throughput and per-token generation latency of a
// ~100M-parameter xLSTM-Large (the 7B architecture scaled down; or any config given with --config):
//
//   embedding_dim 512, num_heads 4 (q/k head dim 64, v head dim 128), num_blocks 16, vocab_size 50304,
//   FFN width 1408, chunk_size 64, inference mode: 102,982,272 parameters (half of them embedding and head).
//
// Measured, after --warmup untimed runs, over --iters runs (median):
//   prefill     one forward over (batch, prompt) random ids in inference mode: tokens/s = batch·prompt / time
//   first token prefill + choosing the first token (time to first token)
//   per token   generate() (greedy) with --new-tokens tokens: the time between consecutive streamed tokens,
//               i.e. one step of the model, the token choice and its read-back; tokens/s = batch / latency
//
//   bench_large_cpu [--config FILE] [--batch 1] [--prompt 512] [--new-tokens 32] [--warmup 1] [--iters 3]
//                   [--threads N] [--dtype float32|bfloat16] [--device cpu|cuda] [--json FILE]
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <xlstm/config.h>
#include <xlstm/generate.h>
#include <xlstm/large/model.h>

namespace {

using Clock = std::chrono::steady_clock;

const char* const kUsage =
    "usage: bench_large_cpu [--config FILE] [--batch B] [--prompt S] [--new-tokens N] [--warmup N] [--iters N]\n"
    "                       [--threads N] [--dtype float32|bfloat16] [--device cpu|cuda] [--json FILE]\n";

struct Options {
  std::map<std::string, int64_t> ints = {{"--batch", 1},  {"--prompt", 512}, {"--new-tokens", 32},
                                         {"--warmup", 1}, {"--iters", 3},    {"--threads", 0}};
  std::map<std::string, std::string> strings = {
      {"--config", ""}, {"--dtype", "float32"}, {"--device", "cpu"}, {"--json", ""}};
  int64_t at(const char* flag) const { return ints.at(flag); }
  const std::string& str(const char* flag) const { return strings.at(flag); }
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (!o.ints.count(flag) && !o.strings.count(flag)) throw std::invalid_argument("unknown flag " + flag);
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    const std::string value = argv[i + 1];
    if (o.strings.count(flag)) {
      o.strings[flag] = value;
      continue;
    }
    std::size_t used = 0;
    int64_t v = -1;
    try {
      v = std::stoll(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    const int64_t min = flag == "--warmup" || flag == "--threads" ? 0 : 1;
    if (used != value.size() || used == 0 || v < min)
      throw std::invalid_argument(flag + " expects an integer >= " + std::to_string(min) + ", got '" + value + "'");
    o.ints[flag] = v;
  }
  if (o.str("--device") != "cpu" && o.str("--device") != "cuda")
    throw std::invalid_argument("--device must be cpu or cuda, got '" + o.str("--device") + "'");
  if (o.str("--dtype") != "float32" && o.str("--dtype") != "bfloat16")
    throw std::invalid_argument("--dtype must be float32 or bfloat16, got '" + o.str("--dtype") + "'");
  return o;
}

xlstm::xLSTMLargeConfig benchmark_config() {
  xlstm::xLSTMLargeConfig c;
  c.embedding_dim = 512;
  c.num_heads = 4;
  c.num_blocks = 16;
  c.vocab_size = 50304;
  c.mode = "inference";
  c.return_last_states = true;
  c.chunk_size = 64;
  c.validate();
  return c;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::cerr << "bench_large_cpu: " << e.what() << "\n" << kUsage;
    return 2;
  }
  try {
    const bool cuda = o.str("--device") == "cuda";
    if (cuda && !torch::cuda::is_available()) throw std::runtime_error("--device cuda but no CUDA device is available");
    if (o.at("--threads") > 0) torch::set_num_threads(static_cast<int>(o.at("--threads")));
    auto sync = [cuda] {
      if (cuda) torch::cuda::synchronize();
    };
    const auto config = o.str("--config").empty() ? benchmark_config()
                                                  : xlstm::from_yaml_file<xlstm::xLSTMLargeConfig>(o.str("--config"));
    const auto dtype = o.str("--dtype") == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
    const torch::Device device(o.str("--device"));
    torch::manual_seed(0);
    xlstm::large::xLSTMLarge model(config, torch::TensorOptions().dtype(dtype).device(device));
    model->eval();
    int64_t params = 0;
    for (const auto& p : model->parameters()) params += p.numel();

    const int64_t B = o.at("--batch"), S = o.at("--prompt"), N = o.at("--new-tokens");
    const auto ids = torch::randint(0, config.vocab_size, {B, S}, torch::TensorOptions().dtype(torch::kLong));
    std::vector<std::vector<int64_t>> prompts(B);
    for (int64_t b = 0; b < B; ++b) prompts[b].assign(ids[b].data_ptr<int64_t>(), ids[b].data_ptr<int64_t>() + S);
    const auto device_ids = ids.to(device);
    xlstm::GenerationConfig gen;
    gen.max_new_tokens = N;

    std::vector<double> prefill, first_token, per_token;
    for (int64_t it = 0; it < o.at("--warmup") + o.at("--iters"); ++it) {
      const bool timed = it >= o.at("--warmup");
      {
        torch::NoGradGuard no_grad;
        sync();
        const auto t0 = Clock::now();
        auto logits = std::get<0>(model->forward(device_ids));
        sync();
        if (timed) prefill.push_back(seconds_since(t0));
        if (!torch::isfinite(logits).all().item<bool>()) throw std::runtime_error("non-finite logits");
      }
      std::vector<Clock::time_point> stamps;  // one per generation step (the last sequence's token)
      const auto t0 = Clock::now();
      xlstm::generate(model, prompts, gen, [&](int64_t b, int64_t) {
        if (b == B - 1) stamps.push_back(Clock::now());
      });
      if (!timed) continue;
      first_token.push_back(std::chrono::duration<double>(stamps.front() - t0).count());
      for (std::size_t i = 1; i < stamps.size(); ++i)
        per_token.push_back(std::chrono::duration<double>(stamps[i] - stamps[i - 1]).count());
    }

    const double prefill_s = median(prefill), first_s = median(first_token);
    const double token_s = per_token.empty() ? 0.0 : median(per_token);
    std::cout << "xLSTM-Large  torch " << TORCH_VERSION << "  threads " << torch::get_num_threads() << "  device "
              << o.str("--device") << "  dtype " << o.str("--dtype") << "\n"
              << "config " << (o.str("--config").empty() ? "built-in ~100M" : o.str("--config")) << "  parameters "
              << params << "  batch " << B << "  prompt " << S << "  new tokens " << N << "  iters "
              << o.at("--iters") << "\n"
              << "| measure | median ms | tokens/s |\n|---|---:|---:|\n"
              << std::fixed << "| prefill (" << B << " x " << S << ") | " << std::setprecision(1) << prefill_s * 1e3
              << " | " << std::setprecision(0) << B * S / prefill_s << " |\n"
              << "| first token | " << std::setprecision(1) << first_s * 1e3 << " | |\n"
              << "| per generated token | " << std::setprecision(2) << token_s * 1e3 << " | " << std::setprecision(1)
              << (token_s > 0 ? B / token_s : 0.0) << " |\n";

    if (!o.str("--json").empty()) {
      std::ofstream out(o.str("--json"));
      out << std::setprecision(9) << "{\"torch_version\": \"" << TORCH_VERSION << "\", \"device\": \""
          << o.str("--device") << "\", \"dtype\": \"" << o.str("--dtype") << "\", \"threads\": "
          << torch::get_num_threads() << ", \"parameters\": " << params << ", \"batch\": " << B
          << ", \"prompt\": " << S << ", \"new_tokens\": " << N << ", \"prefill_s\": " << prefill_s
          << ", \"prefill_tokens_per_s\": " << B * S / prefill_s << ", \"first_token_s\": " << first_s
          << ", \"per_token_s\": " << token_s << "}\n";
      if (!out) throw std::runtime_error("cannot write " + o.str("--json"));
    }
    return 0;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    if (const auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    std::cerr << "bench_large_cpu: " << msg << "\n";
    return 1;
  }
}
