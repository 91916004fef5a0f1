// The command line shared by the experiment programs (xlstm_parity, xlstm_formal, xlstm_mqar):
//
//   PROGRAM CONFIG.yaml [--set key.path=value]... [--out DIR] [--resume] [--threads N] [--no-progress] [--check]
//           [--nproc N] [--time-limit SECONDS]
//
//   --set      override a config value before reading (YAML syntax: --set training.num_steps=100,
//              --set model.slstm_at=[0,1]); repeatable, applied in order
//   --out      output folder (metrics.jsonl, checkpoint/, results.md); default runs/<config name>
//   --resume   continue from <out>/checkpoint (a fresh start when there is none)
//   --threads  CPU threads of torch (default: torch's choice)
//   --check    read and validate the config, print it resolved, and exit
//   --time-limit  stop after the step during which this many seconds (an integer) passed, with a
//              checkpoint (--resume continues; results.md is written when the last step is done)
//   --nproc    data-parallel training in N local processes (xlstm/train/launcher.h; gloo on the CPU,
//              nccl with one GPU each); training.batch_size stays the global batch. A program started
//              by torchrun (or with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT set) runs as that rank.
//
// Exit status: 0 done, 2 bad command line or config (the message names the key and value), 1 other errors.
#pragma once

#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <xlstm/train/experiment.h>
#include <xlstm/train/launcher.h>

#include "program_args.h"

namespace xlstm_examples {

// `check` rejects configs the program does not run (a ConfigError naming the key).
template <class Kwargs>
int experiment_main(int argc, char** argv, const std::string& program,
                    const std::function<void(const xlstm::train::ExperimentConfig<Kwargs>&)>& check) {
  const std::string usage = "usage: " + program +
                            " CONFIG.yaml [--set key.path=value]... [--out DIR] [--resume] [--threads N]"
                            " [--no-progress] [--check] [--nproc N] [--time-limit SECONDS]\n";
  return exit_status_of(usage, [&] {
    std::string config_path;
    std::vector<std::string> overrides;
    xlstm::train::RunOptions options;
    bool check_only = false;
    int nproc = 0;
    for_each_arg(argc, argv, usage, [&](const std::string& arg, const std::function<std::string()>& value) {
      if (arg == "--set") {
        overrides.push_back(value());
      } else if (arg == "--out") {
        options.output_dir = value();
      } else if (arg == "--resume") {
        options.resume = true;
      } else if (arg == "--no-progress") {
        options.progress = false;
      } else if (arg == "--check") {
        check_only = true;
      } else if (arg == "--threads") {
        torch::set_num_threads(static_cast<int>(parse_int(arg, value(), 1)));
      } else if (arg == "--nproc") {
        nproc = static_cast<int>(parse_int(arg, value(), 1));
      } else if (arg == "--time-limit") {
        options.time_limit_seconds = static_cast<double>(parse_int(arg, value(), 1));
      } else if (!arg.empty() && arg[0] == '-') {
        throw UsageError("unknown option " + arg);
      } else if (config_path.empty()) {
        config_path = arg;
      } else {
        throw UsageError("more than one config file: " + config_path + ", " + arg);
      }
    });
    if (config_path.empty()) throw UsageError("no config file given");

    const auto config = xlstm::from_yaml_file<xlstm::train::ExperimentConfig<Kwargs>>(config_path, overrides);
    try {
      check(config);
    } catch (const xlstm::ConfigError& e) {
      throw xlstm::ConfigError(config_path, e);
    }
    if (check_only) {
      std::cout << xlstm::to_yaml(config);
      return 0;
    }
    if (options.output_dir.empty()) options.output_dir = default_output_dir(config_path);
    const auto distributed = xlstm::train::distributed_options_from_env();
    if (nproc > 0 && !distributed) return xlstm::train::launch_self(nproc, xlstm::train::arguments_without(argc, argv, "--nproc"));
    if (distributed) options.distributed = xlstm::train::DistributedContext::create(*distributed, config.training.device);
    if (!options.distributed || options.distributed->is_main())
      std::cout << program << " " << config_path << " -> " << options.output_dir << "\n";
    xlstm::train::run_experiment(config, options);
    return 0;
  });
}

}  // namespace xlstm_examples
