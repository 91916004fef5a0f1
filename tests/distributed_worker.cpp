// One rank of the distributed tests (test_distributed.cpp), started by launch_local: the tiny
// training run of distributed_testing.h with the Trainer in data-parallel mode (or as one process
// when WORLD_SIZE is not set), its parameters and last gradients written to
// OUT/params_rank<r>.safetensors and OUT/grads_rank<r>.safetensors, and
// "<steps> <resumed_from>" to OUT/result_rank<r>.txt; the training folder is OUT/run.
//
//   xlstm_distributed_worker OUT STEPS [--seed-by-rank] [--broadcast-only] [--resume] [--no-overlap]
//                            [--bucket-bytes N] [--fail RANK:throw|kill@EXAMPLE] [--others-sleep SECONDS]
//
// --seed-by-rank    rank r initialises its model with seed r (the broadcast must undo this)
// --broadcast-only  write the parameters right after the Trainer is built (no step)
// --fail            that rank throws (or SIGKILLs itself) when it reads train example EXAMPLE
// --others-sleep    no training: the failing rank fails at once, the others sleep (only the launcher
//                   stops them)
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "distributed_testing.h"
#include "xlstm/data/error.h"
#include "xlstm/io/safetensors.h"
#include "xlstm/train/distributed.h"

namespace {

using namespace xlstm;

// The train data, with a failure planted at one example.
class FailingDataset : public data::SequenceDataset {
 public:
  FailingDataset(std::shared_ptr<const data::SequenceDataset> data, int64_t fail_at, bool kill)
      : data_(std::move(data)), fail_at_(fail_at), kill_(kill) {}
  int64_t size() const override { return data_->size(); }
  int64_t sequence_length() const override { return data_->sequence_length(); }
  data::Example get(int64_t index) const override {
    if (index == fail_at_) {
      if (kill_) ::raise(SIGKILL);
      throw data::DataError("injected failure at example " + std::to_string(index));
    }
    return data_->get(index);
  }
  int64_t ignore_index() const override { return data_->ignore_index(); }
  double chance_accuracy() const override { return data_->chance_accuracy(); }
  std::string description() const override { return data_->description(); }

 private:
  std::shared_ptr<const data::SequenceDataset> data_;
  int64_t fail_at_;
  bool kill_;
};

int run(int argc, char** argv) {
  if (argc < 3) throw std::invalid_argument("usage: xlstm_distributed_worker OUT STEPS [options]");
  const std::string out = argv[1];
  const int64_t steps = std::stoll(argv[2]);
  bool seed_by_rank = false, broadcast_only = false, resume = false, overlap = true;
  int64_t bucket_bytes = 2048, fail_at = -1, others_sleep = 0;
  int fail_rank = -1;
  bool fail_kill = false;
  for (int i = 3; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seed-by-rank") seed_by_rank = true;
    else if (a == "--broadcast-only") broadcast_only = true;
    else if (a == "--resume") resume = true;
    else if (a == "--no-overlap") overlap = false;
    else if (a == "--bucket-bytes" && i + 1 < argc) bucket_bytes = std::stoll(argv[++i]);
    else if (a == "--others-sleep" && i + 1 < argc) others_sleep = std::stoll(argv[++i]);
    else if (a == "--fail" && i + 1 < argc) {  // RANK:throw@N or RANK:kill@N
      const std::string spec = argv[++i];
      fail_rank = std::stoi(spec.substr(0, spec.find(':')));
      fail_kill = spec.find(":kill") != std::string::npos;
      fail_at = std::stoll(spec.substr(spec.find('@') + 1));
    } else throw std::invalid_argument("unknown option " + a);
  }

  train::RunOptions options;
  options.output_dir = out + "/run";
  options.resume = resume;
  options.progress = false;
  options.config_yaml = to_yaml(testing::tiny_lm_config());
  options.gradient_reducer.bucket_bytes = bucket_bytes;
  options.gradient_reducer.overlap = overlap;
  int rank = 0;
  if (const auto env = train::distributed_options_from_env()) {
    options.distributed = train::DistributedContext::create(*env, "cpu");
    rank = env->rank;
  }
  std::shared_ptr<const data::SequenceDataset> train = testing::tiny_lm_data();
  if (rank == fail_rank) train = std::make_shared<FailingDataset>(train, fail_at, fail_kill);
  if (others_sleep > 0) {  // the failing rank fails at once, outside any collective
    if (rank == fail_rank) train->get(fail_at);
    ::sleep(static_cast<unsigned>(others_sleep));
    return 0;
  }

  xLSTMLMModel model = testing::tiny_lm(seed_by_rank ? static_cast<uint64_t>(rank) : 0);
  train::Trainer trainer(testing::tiny_lm_training(steps), train::trainable(model), train, {}, {}, options);
  train::TrainResult result;
  if (!broadcast_only) result = trainer.run();
  const std::string suffix = "_rank" + std::to_string(rank);
  io::save_safetensors(out + "/params" + suffix + ".safetensors", testing::parameters_of(*model));
  if (!broadcast_only) io::save_safetensors(out + "/grads" + suffix + ".safetensors", testing::gradients_of(*model));
  std::ofstream(out + "/result" + suffix + ".txt") << result.steps << " " << result.resumed_from << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
