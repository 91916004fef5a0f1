// `xlstm train`: trains a language model on token files from an LM config (xlstm/train/lm_training.h).
#include <torch/torch.h>

#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "io/file_util.h"
#include "xlstm/train/launcher.h"
#include "xlstm/train/lm_training.h"

namespace xlstm::cli {
namespace {

// runs/<config file name without extension>
std::string default_output(const std::string& config_path) {
  const size_t slash = config_path.find_last_of('/');
  const std::string name = config_path.substr(slash == std::string::npos ? 0 : slash + 1);
  return "runs/" + name.substr(0, name.rfind('.'));
}

int run_train(const Args& args) {
  if (args.has("output") && args.has("resume"))
    throw UsageError("give --output or --resume, not both (--resume DIR continues the run in DIR)");
  const int64_t threads = args.get_int("threads", 0);
  if (args.has("threads") && threads < 1) throw UsageError("--threads must be a positive integer");
  const int64_t stop_after = args.get_int("stop-after-steps", 0);
  if (stop_after < 0) throw UsageError("--stop-after-steps must not be negative");
  const double time_limit = args.get_double("time-limit", 0);
  if (!(time_limit >= 0)) throw UsageError("--time-limit must not be negative");
  if (threads > 0) torch::set_num_threads(static_cast<int>(threads));
  const int64_t nproc = args.get_int("nproc", 0);
  if (args.has("nproc") && nproc < 1) throw UsageError("--nproc must be a positive integer");
  const auto distributed = train::distributed_options_from_env();
  if (nproc > 0 && !distributed) {  // the launcher: N copies of `xlstm train ...` without --nproc
    std::vector<std::string> worker{"train"};
    for (auto& word : args.words_without("nproc")) worker.push_back(word);
    return train::launch_self(static_cast<int>(nproc), worker);
  }

  const std::string config_path = args.get("config");
  auto config = from_yaml_file<train::LMExperimentConfig>(config_path, args.get_all("set"));
  config.dataset.kwargs = data::with_absolute_paths(config.dataset.kwargs);

  train::RunOptions options;
  options.resume = args.has("resume");
  options.output_dir = io::strip_trailing_slashes(options.resume ? args.get("resume") : args.get_or("output", default_output(config_path)));
  options.stop_after_steps = stop_after;
  options.time_limit_seconds = time_limit;
  if (distributed) options.distributed = train::DistributedContext::create(*distributed, config.training.device);
  const bool main_rank = !options.distributed || options.distributed->is_main();
  if (options.resume && io::followed_path_kind(options.output_dir + "/checkpoint/trainer.json") != io::PathKind::file)
    throw std::runtime_error(options.output_dir + ": no checkpoint to resume (" + options.output_dir +
                             "/checkpoint/trainer.json is missing)");

  if (main_rank) std::printf("xlstm train %s -> %s\n", config_path.c_str(), options.output_dir.c_str());
  std::fflush(stdout);
  const train::TrainResult result = train::run_lm_experiment(config, options, std::cout);
  if (!main_rank) return 0;
  if (result.steps < config.training.num_steps)
    std::printf("continue with: xlstm train --config %s --resume %s\n", config_path.c_str(), options.output_dir.c_str());
  std::printf("checkpoint: %s/checkpoint (xlstm generate --checkpoint %s)\n", options.output_dir.c_str(),
              options.output_dir.c_str());
  return 0;
}

}  // namespace

Command train_command() {
  return {"train", "train a language model on token files (configs/lm_brown.yaml)",
          "usage: xlstm train --config FILE [--output DIR | --resume DIR] [--set key.path=value]...\n"
          "                   [--threads N] [--stop-after-steps N] [--time-limit SECONDS] [--nproc N]\n"
          "\n"
          "Trains the xLSTMLMModel of an LM config (sections training, model, dataset: configs/README.md)\n"
          "on the token files of `xlstm prepare-data`: next-token loss on random windows of the train file\n"
          "(step k's batch depends only on dataset.kwargs.seed and k), AdamW with warm-up and cosine decay,\n"
          "bf16 autocast on the GPU. Shows a progress line (loss, tokens/s, ETA), prints validation loss and\n"
          "perplexity every training.val_every_step steps and at the end, and writes to the output folder:\n"
          "metrics.jsonl, checkpoint/ (weights, optimizer, config with absolute data and tokenizer paths:\n"
          "what `xlstm generate --checkpoint` loads) and results.md.\n"
          "\n"
          "  --config FILE           the LM config (YAML)\n"
          "  --output DIR            output folder (default runs/<config name>); must not hold an earlier run\n"
          "  --resume DIR            continue the run in DIR from DIR/checkpoint (the same config is required)\n"
          "  --set key.path=value    override a config value (YAML syntax), repeatable:\n"
          "                          --set training.num_steps=100 --set dataset.kwargs.train_file=data/x.bin\n"
          "  --threads N             CPU threads of torch (default: torch's choice)\n"
          "  --stop-after-steps N    stop after N steps of this invocation (checkpoint written; --resume continues)\n"
          "  --time-limit SECONDS    stop after the step during which this much time has passed (likewise)\n"
          "  --nproc N               data-parallel training in N local processes (gloo on the CPU, nccl on\n"
          "                          GPUs; each rank a slice of every batch; also runs under torchrun)\n",
          {{"config"}, {"output"}, {"resume"}, {"set", true, true}, {"threads"}, {"stop-after-steps"}, {"time-limit"},
           {"nproc"}},
          run_train};
}

}  // namespace xlstm::cli
