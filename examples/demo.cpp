// The main demo: builds an xLSTM language model from a YAML config, initialises it as the reference
// does, runs a forward pass over random tokens, then checks that prefill + token-by-token steps give
// the same logits as one forward pass.
//
//   xlstm_demo --config configs/xlstm_lm_readme.yaml [--batch 2] [--seq 64] [--device cpu|cuda]
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include <xlstm/xlstm.h>

namespace {

struct Args {
  std::string config = "configs/xlstm_lm_readme.yaml";
  int64_t batch = 2, seq = 64;
  std::string device = "cpu";
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << "usage: xlstm_demo [--config FILE] [--batch B] [--seq S] [--device cpu|cuda]\n";
      std::exit(0);
    }
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--config") a.config = value;
    else if (flag == "--batch") a.batch = std::stoll(value);
    else if (flag == "--seq") a.seq = std::stoll(value);
    else if (flag == "--device") a.device = value;
    else throw std::invalid_argument("unknown flag " + flag);
  }
  if (a.batch < 1 || a.seq < 2) throw std::invalid_argument("--batch must be >= 1 and --seq >= 2");
  return a;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) try {
  const Args args = parse_args(argc, argv);
  const torch::Device device(args.device);
  auto config = xlstm::from_yaml_file<xlstm::xLSTMLMModelConfig>(args.config);
  torch::manual_seed(0);
  xlstm::xLSTMLMModel model(config);
  model->reset_parameters();
  model->to(device);
  model->eval();

  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  std::cout << "config        " << args.config << "\n"
            << "blocks        " << config._block_map << "  (0 = mLSTM, 1 = sLSTM)\n"
            << "embedding     " << config.embedding_dim << ", vocab " << config.vocab_size << "\n"
            << "parameters    " << params << "\n";

  torch::NoGradGuard no_grad;
  auto ids = torch::randint(0, config.vocab_size, {args.batch, args.seq}, torch::TensorOptions().dtype(torch::kLong).device(device));
  auto t0 = std::chrono::steady_clock::now();
  auto [logits, state] = model->forward(ids);
  const double fw = seconds_since(t0);
  std::cout << "forward       logits " << logits.sizes() << " in " << fw * 1e3 << " ms ("
            << static_cast<int64_t>(args.batch * args.seq / fw) << " tokens/s)\n";

  // Prefill half of the sequence, then step through the rest one token at a time.
  const int64_t half = args.seq / 2;
  auto [prefill_logits, st] = model->forward(ids.narrow(1, 0, half));
  std::vector<torch::Tensor> pieces{prefill_logits};
  t0 = std::chrono::steady_clock::now();
  for (int64_t t = half; t < args.seq; ++t) {
    auto [step_logits, next] = model->step(ids.narrow(1, t, 1), st);
    pieces.push_back(step_logits);
    st = std::move(next);
  }
  const double step_time = seconds_since(t0) / static_cast<double>(args.seq - half);
  const double diff = (torch::cat(pieces, 1) - logits).abs().max().item<double>();
  std::cout << "step          " << step_time * 1e3 << " ms per token (batch " << args.batch << ")\n"
            << "prefill+steps max |difference| to one forward: " << diff << "\n";
  if (!(diff < 1e-3)) {
    std::cerr << "error: step outputs differ from the forward pass\n";
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
