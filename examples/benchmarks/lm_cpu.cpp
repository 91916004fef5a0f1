// Language-model throughput benchmark: builds xLSTMLMModel from a YAML config (default: the reference
// README's 7-block LM), initialises it with reset_parameters(), and times on random token ids
//   forward           eval mode, under NoGradGuard
//   forward+backward  train mode, cross-entropy on random targets, backward (grads cleared before each)
// reporting the median wall time and tokens/s (batch*seq / median) of each. The same measurement of the
// reference Python implementation is examples/benchmarks/reference_lm_cpu.py; run_lm_cpu.sh compares.
//
//   bench_lm_cpu [--config FILE] [--batch 8] [--seq 256] [--warmup 2] [--iters 5] [--threads N]
//                [--device cpu|cuda] [--json FILE]
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <xlstm/config.h>
#include <xlstm/lm_model.h>

#include "program_args.h"

namespace {

constexpr const char* kUsage =
    "usage: bench_lm_cpu [--config FILE] [--batch B] [--seq S] [--warmup N] [--iters N] [--threads N]\n"
    "                    [--device cpu|cuda] [--json FILE]\n";

struct Args {
  std::string config = "configs/xlstm_lm_readme.yaml";
  int64_t batch = 8, seq = 256, warmup = 2, iters = 5, threads = 0;  // threads 0: torch's default
  std::string device = "cpu";
  std::string json;
};

// A usage error: reported as one line, exit status 2.
using xlstm_examples::parse_int;
using xlstm_examples::UsageError;

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    const bool known = flag == "--config" || flag == "--batch" || flag == "--seq" || flag == "--warmup" ||
                       flag == "--iters" || flag == "--threads" || flag == "--device" || flag == "--json";
    if (!known) throw UsageError("unknown flag '" + flag + "'");
    if (i + 1 >= argc) throw UsageError(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--config") a.config = value;
    else if (flag == "--batch") a.batch = parse_int(flag, value, 1);
    else if (flag == "--seq") a.seq = parse_int(flag, value, 1);
    else if (flag == "--warmup") a.warmup = parse_int(flag, value, 0);
    else if (flag == "--iters") a.iters = parse_int(flag, value, 1);
    else if (flag == "--threads") a.threads = parse_int(flag, value, 0);
    else if (flag == "--device") a.device = value;
    else a.json = value;
  }
  if (a.device != "cpu" && a.device != "cuda") throw UsageError("--device must be cpu or cuda, got '" + a.device + "'");
  return a;
}

struct Timing {
  std::vector<double> times_s;
  double median_s = 0, tokens_per_s = 0;
};

Timing summarize(std::vector<double> times, int64_t tokens) {
  Timing t;
  t.times_s = times;
  std::sort(times.begin(), times.end());
  const std::size_t n = times.size();
  t.median_s = n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
  t.tokens_per_s = static_cast<double>(tokens) / t.median_s;
  return t;
}

// Wall-clock timer that waits for queued GPU work before reading the clock.
class Clock {
 public:
  explicit Clock(bool cuda) : cuda_(cuda) {}
  void start() {
    sync();
    t0_ = std::chrono::steady_clock::now();
  }
  double stop() {
    sync();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  void sync() const {
    if (cuda_) torch::cuda::synchronize();
  }
  bool cuda_;
  std::chrono::steady_clock::time_point t0_;
};

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream s;
  s << std::setprecision(17) << v;
  return s.str();
}

std::string json_string(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string json_timing(const Timing& t) {
  std::ostringstream s;
  s << "{\"median_s\": " << json_number(t.median_s) << ", \"tokens_per_s\": " << json_number(t.tokens_per_s)
    << ", \"times_s\": [";
  for (std::size_t i = 0; i < t.times_s.size(); ++i) s << (i ? ", " : "") << json_number(t.times_s[i]);
  return s.str() + "]}";
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  try {
    args = parse_args(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "bench_lm_cpu: " << e.what() << " (see --help)\n";
    return 2;
  }
  try {
    const bool cuda = args.device == "cuda";
    if (cuda && !torch::cuda::is_available()) throw std::runtime_error("--device cuda but no CUDA device is available");
    if (args.threads > 0) torch::set_num_threads(static_cast<int>(args.threads));
    const torch::Device device(args.device);

    const auto config = xlstm::from_yaml_file<xlstm::xLSTMLMModelConfig>(args.config);
    torch::manual_seed(0);
    xlstm::xLSTMLMModel model(config);
    model->reset_parameters();
    model->to(device);
    int64_t params = 0;
    for (const auto& p : model->parameters()) params += p.numel();

    const int64_t vocab = config.vocab_size;
    const auto long_opts = torch::TensorOptions().dtype(torch::kInt64).device(device);
    const auto ids = torch::randint(0, vocab, {args.batch, args.seq}, long_opts);
    const auto targets = torch::randint(0, vocab, {args.batch, args.seq}, long_opts);
    const int64_t tokens = args.batch * args.seq;
    Clock clock(cuda);

    // Forward only: eval mode, no autograd graph.
    model->eval();
    std::vector<double> fwd_times;
    {
      torch::NoGradGuard no_grad;
      for (int64_t i = 0; i < args.warmup + args.iters; ++i) {
        clock.start();
        auto logits = std::get<0>(model->forward(ids));
        const double dt = clock.stop();
        if (logits.sizes() != torch::IntArrayRef{args.batch, args.seq, vocab}) {
          std::ostringstream s;
          s << "unexpected logits shape " << logits.sizes();
          throw std::runtime_error(s.str());
        }
        if (i >= args.warmup) fwd_times.push_back(dt);
      }
    }

    // Forward + cross-entropy + backward: train mode, gradients cleared before each iteration.
    model->train();
    std::vector<double> fb_times;
    double loss_value = NAN;
    for (int64_t i = 0; i < args.warmup + args.iters; ++i) {
      model->zero_grad(/*set_to_none=*/true);
      clock.start();
      auto logits = std::get<0>(model->forward(ids));
      auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, vocab}), targets.reshape({-1}));
      loss.backward();
      const double dt = clock.stop();
      loss_value = loss.item<double>();
      if (i >= args.warmup) fb_times.push_back(dt);
    }
    if (!std::isfinite(loss_value)) throw std::runtime_error("non-finite loss " + std::to_string(loss_value));

    const Timing fwd = summarize(fwd_times, tokens), fb = summarize(fb_times, tokens);
    const std::string impl = "C++ xlstm (LibTorch)";
    const int threads = torch::get_num_threads();

    std::cout << impl << "  torch " << TORCH_VERSION << "  threads " << threads << "  device " << args.device
              << "\n"
              << "config " << args.config << "  parameters " << params << "  batch " << args.batch << "  seq "
              << args.seq << "  warmup " << args.warmup << "  iters " << args.iters << "  final loss " << std::fixed
              << std::setprecision(4) << loss_value << "\n"
              << "| mode | median ms | tokens/s |\n"
              << "|---|---:|---:|\n";
    const auto row = [](const char* name, const Timing& t) {
      std::cout << "| " << name << " | " << std::setprecision(1) << t.median_s * 1e3 << " | " << std::setprecision(0)
                << t.tokens_per_s << " |\n";
    };
    row("forward", fwd);
    row("forward+backward", fb);

    if (!args.json.empty()) {
      std::ofstream out(args.json);
      if (!out) throw std::runtime_error("cannot write " + args.json);
      out << "{\n"
          << "  \"implementation\": " << json_string(impl) << ",\n"
          << "  \"torch_version\": " << json_string(TORCH_VERSION) << ",\n"
          << "  \"threads\": " << threads << ",\n"
          << "  \"device\": " << json_string(args.device) << ",\n"
          << "  \"config\": " << json_string(args.config) << ",\n"
          << "  \"parameters\": " << params << ",\n"
          << "  \"batch\": " << args.batch << ",\n"
          << "  \"seq\": " << args.seq << ",\n"
          << "  \"warmup\": " << args.warmup << ",\n"
          << "  \"iters\": " << args.iters << ",\n"
          << "  \"loss\": " << json_number(loss_value) << ",\n"
          << "  \"forward\": " << json_timing(fwd) << ",\n"
          << "  \"forward_backward\": " << json_timing(fb) << "\n"
          << "}\n";
      if (!out) throw std::runtime_error("error writing " + args.json);
    }
    return 0;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    // c10::Error messages carry a multi-line backtrace; keep the first line.
    if (const auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    std::cerr << "bench_lm_cpu: " << msg << "\n";
    return 1;
  }
}
