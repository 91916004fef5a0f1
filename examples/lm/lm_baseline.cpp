// xlstm_lm_baseline: trains the GPT-style Transformer baseline (transformer_baseline.h) on the token
// files of an LM config, with the same training library, data and budget as `xlstm train`
// (xlstm/train/lm_training.h): the same progress line, metrics.jsonl, checkpoint/ and results.md row.
//
//   xlstm_lm_baseline --config configs/lm_brown_transformer.yaml [--output DIR] [--set key.path=value]...
//                     [--threads N] [--time-limit SECONDS] [--check]
//
//   --output  output folder (default runs/<config name>); must not hold an earlier run
//   --set     override a value: transformer.<field>=... for the transformer section, anything else for
//             the base LM config (--set training.num_steps=100); repeatable
//   --time-limit  stop after the step during which this many seconds (an integer) passed (checkpoint written)
//   --check   print the parameter count and the resolved config, and exit
//
// Exit status: 0 done, 2 bad command line or config, 1 other errors.
#include <torch/torch.h>

#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <xlstm/train/lm_training.h>
#include <xlstm/train/progress.h>

#include "lm/baseline_config.h"
#include "program_args.h"

namespace {

using xlstm_examples::UsageError;

const char* kUsage =
    "usage: xlstm_lm_baseline --config FILE [--output DIR] [--set key.path=value]... [--threads N]\n"
    "                         [--time-limit SECONDS] [--check]\n";

int run(int argc, char** argv) {
  std::string config_path, output;
  std::vector<std::string> overrides;
  double time_limit = 0;
  bool check_only = false;
  xlstm_examples::for_each_arg(argc, argv, kUsage, [&](const std::string& arg, const std::function<std::string()>& value) {
    if (arg == "--config") {
      config_path = value();
    } else if (arg == "--output") {
      output = value();
    } else if (arg == "--set") {
      overrides.push_back(value());
    } else if (arg == "--check") {
      check_only = true;
    } else if (arg == "--threads") {
      torch::set_num_threads(static_cast<int>(xlstm_examples::parse_int(arg, value(), 1)));
    } else if (arg == "--time-limit") {
      time_limit = static_cast<double>(xlstm_examples::parse_int(arg, value(), 1));
    } else {
      throw UsageError("unexpected argument " + arg);
    }
  });
  if (config_path.empty()) throw UsageError("--config is required");

  const auto config = xlstm_examples::read_baseline_config(config_path, overrides);
  torch::manual_seed(static_cast<uint64_t>(config.base.training.seed));
  xlstm_examples::TransformerLM model(config.transformer);
  if (check_only) {
    std::cout << "parameters: " << xlstm::train::format_thousands(static_cast<double>(xlstm::train::parameter_count(*model)))
              << "\n"
              << config.yaml;
    return 0;
  }
  xlstm::train::RunOptions options;
  options.output_dir = output.empty() ? xlstm_examples::default_output_dir(config_path) : output;
  options.config_yaml = config.yaml;
  options.time_limit_seconds = time_limit;
  std::cout << "xlstm_lm_baseline " << config_path << " -> " << options.output_dir << "\n";
  const auto impl = model.ptr();
  const xlstm::train::TrainableModel trainable{impl, [impl](const torch::Tensor& ids) { return impl->forward(ids); }, false};
  const std::string name = "Transformer (" + std::to_string(config.transformer.num_layers) + " layers, E " +
                           std::to_string(config.transformer.embedding_dim) + ")";
  xlstm::train::train_language_model(name, trainable, config.base.training, config.base.dataset.kwargs, options);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return xlstm_examples::exit_status_of(kUsage, [&] { return run(argc, argv); }); }
