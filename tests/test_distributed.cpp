// Data-parallel training on c10d over loopback with gloo: the environment and its errors, the data
// shards, a world of one against the plain trainer (bitwise), 2 ranks against one process over the
// whole batch, the start-up broadcast, resuming with another world size, and the launcher stopping
// a job whose rank fails or is killed.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "distributed_testing.h"
#include "temp_dir.h"
#include "xlstm/io/safetensors.h"
#include "xlstm/train/distributed.h"
#include "xlstm/train/launcher.h"

namespace {

using namespace xlstm;
using namespace xlstm::train;
using xlstm::testing::TempDir;

std::function<const char*(const char*)> env_of(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

std::string error_of(const std::map<std::string, std::string>& vars) {
  try {
    distributed_options_from_env(env_of(vars));
  } catch (const DistributedError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(DistributedOptions, ReadTorchrunsEnvironment) {
  EXPECT_FALSE(distributed_options_from_env(env_of({{"RANK", "0"}}))) << "no WORLD_SIZE: a single process";
  const auto o = distributed_options_from_env(
      env_of({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "10.1.2.3"}, {"MASTER_PORT", "2345"}}));
  ASSERT_TRUE(o);
  EXPECT_EQ(o->rank, 3);
  EXPECT_EQ(o->world_size, 4);
  EXPECT_EQ(o->local_rank, 1);
  EXPECT_EQ(o->master_addr, "10.1.2.3");
  EXPECT_EQ(o->master_port, 2345);
  EXPECT_EQ(o->backend, "auto");
  EXPECT_FALSE(o->external_store);
  const auto agent = distributed_options_from_env(env_of(
      {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"}, {"TORCHELASTIC_RESTART_COUNT", "2"}}));
  ASSERT_TRUE(agent);
  EXPECT_TRUE(agent->external_store) << "torchrun's agent serves the store";
  EXPECT_EQ(agent->store_prefix, "xlstm/attempt_2");
  const auto defaults = distributed_options_from_env(env_of({{"RANK", "1"}, {"WORLD_SIZE", "2"}}));
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->local_rank, 1) << "LOCAL_RANK defaults to RANK";
  EXPECT_EQ(defaults->master_addr, "127.0.0.1");
  EXPECT_EQ(defaults->master_port, 29500);
}

TEST(DistributedOptions, BadValuesNameTheVariable) {
  EXPECT_EQ(error_of({{"RANK", "abc"}, {"WORLD_SIZE", "2"}}), "RANK=\"abc\" is not an integer");
  EXPECT_EQ(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2x"}}), "WORLD_SIZE=\"2x\" is not an integer");
  EXPECT_EQ(error_of({{"RANK", "0"}, {"WORLD_SIZE", ""}}), "WORLD_SIZE=\"\" is not an integer");
  EXPECT_EQ(error_of({{"RANK", "0"}, {"WORLD_SIZE", "0"}}), "WORLD_SIZE=0 must be 1 or more");
  EXPECT_EQ(error_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}}), "RANK=2 is not in [0, WORLD_SIZE=2)");
  EXPECT_EQ(error_of({{"RANK", "-1"}, {"WORLD_SIZE", "2"}}), "RANK=-1 is not in [0, WORLD_SIZE=2)");
  EXPECT_EQ(error_of({{"WORLD_SIZE", "2"}}), "WORLD_SIZE=2 is set but RANK is not");
  EXPECT_EQ(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "-3"}}), "LOCAL_RANK=-3 must be 0 or more");
  EXPECT_EQ(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}),
            "MASTER_PORT=70000 is not a port (1-65535)");
  EXPECT_EQ(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "99999999999"}}),
            "MASTER_PORT=\"99999999999\" is not an integer");
  EXPECT_EQ(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", ""}}), "MASTER_ADDR is empty");
  EXPECT_EQ(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"XLSTM_DIST_BACKEND", "mpi"}}),
            "XLSTM_DIST_BACKEND=\"mpi\" is not one of gloo, nccl, auto");
}

TEST(DistributedOptions, BackendAndDeviceMustAgree) {
  DistributedOptions o;
  o.backend = "nccl";
  try {
    DistributedContext::create(o, "cpu");
    FAIL() << "nccl on the CPU accepted";
  } catch (const DistributedError& e) {
    EXPECT_STREQ(e.what(), "backend nccl needs a CUDA device, but training.device is \"cpu\"");
  }
}

TEST(DistributedOptions, RendezvousTimeoutNamesTheEndpoint) {
  DistributedOptions o;
  o.rank = 1;  // rank 0, which serves the store, never comes
  o.world_size = 2;
  o.master_port = free_port("127.0.0.1");
  o.timeout_seconds = 1;
  try {
    DistributedContext::create(o, "cpu");
    FAIL() << "a rendezvous without rank 0 succeeded";
  } catch (const DistributedError& e) {
    const std::string expected =
        "rank 1 of 2: rendezvous at MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(o.master_port) + " failed: ";
    EXPECT_EQ(std::string(e.what()).rfind(expected, 0), 0u) << e.what();
  }
}

TEST(DistributedShards, CoverEachGlobalBatchDisjointly) {
  for (int world = 1; world <= 5; ++world)
    for (int64_t count : {5, 8, 13}) {
      int64_t next = 100, smallest = count, largest = 0;
      for (int r = 0; r < world; ++r) {
        const Shard s = shard_of(100, count, r, world);
        EXPECT_EQ(s.first, next) << "rank " << r << " of " << world;
        next += s.count;
        smallest = std::min(smallest, s.count);
        largest = std::max(largest, s.count);
      }
      EXPECT_EQ(next, 100 + count);
      EXPECT_LE(largest - smallest, 1);
    }
}

// The largest relative difference of a tensor of `a` from its namesake in `reference`: ‖a - b‖ / ‖b‖.
double relative_difference(const std::map<std::string, torch::Tensor>& a,
                           const std::map<std::string, torch::Tensor>& reference) {
  EXPECT_EQ(a.size(), reference.size());
  double worst = 0;
  for (const auto& [name, b] : reference) {
    const auto it = a.find(name);
    if (it == a.end()) {
      ADD_FAILURE() << name << " missing";
      continue;
    }
    worst = std::max(worst, (it->second - b).norm().item<double>() / std::max(b.norm().item<double>(), 1e-30));
  }
  return worst;
}

bool identical(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, t] : a)
    if (!b.count(name) || !torch::equal(t, b.at(name))) return false;
  return true;
}

struct RunState {
  std::map<std::string, torch::Tensor> params, grads;
};

// One process over the whole batch, in this process.
RunState single_process_run(int64_t steps) {
  xLSTMLMModel model = xlstm::testing::tiny_lm(0);
  RunOptions options;
  options.progress = false;
  std::ostringstream out;
  Trainer(xlstm::testing::tiny_lm_training(steps), trainable(model), xlstm::testing::tiny_lm_data(), {}, {}, options, out)
      .run();
  return {xlstm::testing::parameters_of(*model), xlstm::testing::gradients_of(*model)};
}

class DistributedTraining : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!backend_available("gloo")) GTEST_SKIP() << "this build has no gloo backend (gloo's headers were not found)";
  }

  // The worker in `nproc` ranks; the launcher's result, with the workers' output in out_ / err_.
  LaunchResult launch(int nproc, const std::vector<std::string>& args) {
    LaunchOptions o;
    o.nproc = nproc;
    o.command = {XLSTM_DISTRIBUTED_WORKER};
    o.command.insert(o.command.end(), args.begin(), args.end());
    out_.str("");
    err_.str("");
    return launch_local(o, out_, err_);
  }
  RunState state(const TempDir& dir, int rank) {
    const std::string suffix = "_rank" + std::to_string(rank) + ".safetensors";
    const auto grads = dir.file("grads" + suffix);
    return {io::load_safetensors(dir.file("params" + suffix)),
            std::ifstream(grads).good() ? io::load_safetensors(grads) : std::map<std::string, torch::Tensor>{}};
  }
  std::ostringstream out_, err_;
};

TEST_F(DistributedTraining, WorldOfOneIsBitIdenticalToOneProcess) {
  TempDir dir;
  DistributedOptions o;
  o.store_file = dir.file("store");  // FileStore rendezvous
  xLSTMLMModel model = xlstm::testing::tiny_lm(0);
  RunOptions options;
  options.progress = false;
  options.distributed = DistributedContext::create(o, "cpu");
  EXPECT_EQ(options.distributed->backend(), "gloo");
  std::ostringstream out;
  Trainer(xlstm::testing::tiny_lm_training(4), trainable(model), xlstm::testing::tiny_lm_data(), {}, {}, options, out)
      .run();
  const RunState single = single_process_run(4);
  EXPECT_TRUE(identical(xlstm::testing::parameters_of(*model), single.params));
  EXPECT_TRUE(identical(xlstm::testing::gradients_of(*model), single.grads));
}

TEST_F(DistributedTraining, TwoRanksEqualOneProcessOverTheWholeBatch) {
  TempDir one_step, overlapped, after_backward;
  // Different initialisations per rank: the broadcast at start makes them rank 0's. The first step
  // (learning rate 0) leaves the gradient of the whole batch, averaged over the ranks.
  const LaunchResult a = launch(2, {one_step.path(), "1", "--seed-by-rank"});
  ASSERT_EQ(a.exit_code, 0) << a.message << "\n" << err_.str();
  EXPECT_NE(err_.str().find("[rank 0] step 1/1 | loss"), std::string::npos) << "rank 0's lines come with a prefix";
  EXPECT_EQ(err_.str().find("[rank 1] step"), std::string::npos) << "rank 1 prints no progress";
  const double grad_error = relative_difference(state(one_step, 1).grads, single_process_run(1).grads);
  EXPECT_LT(grad_error, 1e-6) << "gradients of 2 ranks x 4 examples against 1 process x 8 examples";

  const LaunchResult b = launch(2, {overlapped.path(), "4", "--seed-by-rank"});
  ASSERT_EQ(b.exit_code, 0) << b.message << "\n" << err_.str();
  const RunState rank0 = state(overlapped, 0);
  EXPECT_TRUE(identical(rank0.params, state(overlapped, 1).params)) << "the ranks' parameters are bitwise equal";
  const double param_error = relative_difference(rank0.params, single_process_run(4).params);
  EXPECT_LT(param_error, 1e-6) << "parameters after 4 steps";
  std::cout << "2 ranks against one process: relative difference of the gradients " << grad_error
            << ", of the parameters after 4 steps " << param_error << "\n";

  // The all-reduce after backward instead of during it reduces the same sums.
  const LaunchResult c = launch(2, {after_backward.path(), "4", "--seed-by-rank", "--no-overlap"});
  ASSERT_EQ(c.exit_code, 0) << c.message;
  EXPECT_TRUE(identical(rank0.params, state(after_backward, 0).params));
}

TEST_F(DistributedTraining, BroadcastMakesRanksIdenticalAtStart) {
  TempDir dir;
  const LaunchResult r = launch(2, {dir.path(), "1", "--seed-by-rank", "--broadcast-only"});
  ASSERT_EQ(r.exit_code, 0) << r.message << "\n" << err_.str();
  const auto rank1 = state(dir, 1).params;
  EXPECT_TRUE(identical(rank1, xlstm::testing::parameters_of(*xlstm::testing::tiny_lm(0)))) << "rank 1 holds rank 0's initialisation";
  EXPECT_FALSE(identical(rank1, xlstm::testing::parameters_of(*xlstm::testing::tiny_lm(1)))) << "and not its own";
}

TEST_F(DistributedTraining, ResumesWithAnotherWorldSize) {
  TempDir dir;
  const LaunchResult first = launch(2, {dir.path(), "3"});
  ASSERT_EQ(first.exit_code, 0) << first.message << "\n" << err_.str();
  // 3 ranks split the batches of 8 into 2 + 3 + 3 examples.
  const LaunchResult second = launch(3, {dir.path(), "6", "--resume"});
  ASSERT_EQ(second.exit_code, 0) << second.message << "\n" << err_.str();
  for (int r = 0; r < 3; ++r) {
    std::ifstream result(dir.file("result_rank" + std::to_string(r) + ".txt"));
    int64_t steps = 0, resumed_from = 0;
    result >> steps >> resumed_from;
    EXPECT_EQ(steps, 6);
    EXPECT_EQ(resumed_from, 3) << "rank " << r;
  }
  std::ifstream metrics(dir.file("run/metrics.jsonl"));
  int records = 0;
  for (std::string line; std::getline(metrics, line);) records += line.find("\"split\":\"train\"") != std::string::npos;
  EXPECT_EQ(records, 6) << "one train record per step, written by rank 0 only";
  const double error = relative_difference(state(dir, 2).params, single_process_run(6).params);
  EXPECT_LT(error, 1e-6) << "3 steps on 2 ranks, then 3 on 3 ranks, against 6 steps in one process";
  std::cout << "resumed on 3 ranks against one process: relative difference of the parameters " << error << "\n";
}

TEST_F(DistributedTraining, LauncherStopsTheJobWhenARankFails) {
  const auto started = std::chrono::steady_clock::now();
  TempDir dir;
  const LaunchResult r = launch(2, {dir.path(), "1", "--fail", "1:throw@0", "--others-sleep", "120"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.failed_rank, 1);
  EXPECT_NE(r.message.find("rank 1 exited with status 1 (the other ranks were stopped); its last lines of stderr:"),
            std::string::npos) << r.message;
  EXPECT_NE(r.message.find("error: injected failure at example 0"), std::string::npos) << r.message;
  EXPECT_NE(err_.str().find("[rank 1] error: injected failure at example 0"), std::string::npos) << err_.str();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), 60)
      << "rank 0 was stopped, not left sleeping";
}

TEST_F(DistributedTraining, LauncherStopsTheJobWhenARankIsKilled) {
  TempDir dir;
  const LaunchResult r = launch(2, {dir.path(), "1", "--fail", "1:kill@0", "--others-sleep", "120"});
  EXPECT_EQ(r.exit_code, 128 + 9);
  EXPECT_EQ(r.failed_rank, 1);
  EXPECT_EQ(r.message.rfind("rank 1 was killed by signal 9 (Killed) (the other ranks were stopped)", 0), 0u) << r.message;
}

TEST_F(DistributedTraining, FailureInTheMiddleOfTrainingEndsEveryRank) {
  TempDir dir;
  // Example 12 is in rank 1's half of step 1's batch [8, 16); rank 0 is waiting in a collective.
  const LaunchResult r = launch(2, {dir.path(), "4", "--fail", "1:throw@12"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(err_.str().find("[rank 1] error: injected failure at example 12"), std::string::npos) << err_.str();
  EXPECT_FALSE(std::ifstream(dir.file("params_rank0.safetensors")).good()) << "rank 0 did not finish";
}

TEST(Launcher, RejectsBadOptions) {
  LaunchOptions o;
  o.nproc = 0;
  o.command = {"/bin/true"};
  EXPECT_THROW(launch_local(o), DistributedError);
  o.nproc = 2;
  o.command = {"/nonexistent/worker"};
  try {
    launch_local(o);
    FAIL() << "a missing program accepted";
  } catch (const DistributedError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("launcher: /nonexistent/worker is not an executable program", 0), 0u) << e.what();
  }
}

TEST(Launcher, SetsTheRankEnvironment) {
  LaunchOptions o;
  o.nproc = 2;
  o.command = {"/bin/sh", "-c", "echo $RANK/$WORLD_SIZE/$LOCAL_RANK/$MASTER_ADDR; echo to-stderr >&2"};
  o.master_port = 23456;
  std::ostringstream out, err;
  const LaunchResult r = launch_local(o, out, err);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(out.str().find("[rank 0] 0/2/0/127.0.0.1\n"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("[rank 1] 1/2/1/127.0.0.1\n"), std::string::npos) << out.str();
  EXPECT_NE(err.str().find("[rank 1] to-stderr\n"), std::string::npos) << err.str();
  o.command = {"/bin/sh", "-c", "exit $((RANK * 3))"};
  const LaunchResult failed = launch_local(o, out, err);
  EXPECT_EQ(failed.exit_code, 3);
  EXPECT_EQ(failed.message, "rank 1 exited with status 3 (the other ranks were stopped); it wrote nothing to stderr");
}

}  // namespace
