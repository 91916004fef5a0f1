// `xlstm train` and `xlstm generate` end to end on the CPU: the tiny LM config (configs/lm_brown_tiny.yaml)
// on token files of three Brown documents (loss falls, checkpoint written, validation perplexity,
// exact resumption), generation from its checkpoint (the requested number of tokens, greedy
// deterministic, sampling reproducible with --seed, batches), and every error path of both commands.
#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>

#include "cli_testing.h"
#include "temp_dir.h"
#include "testing.h"
#include "tokenizer_testing.h"
#include "xlstm/io/safetensors.h"
#include "xlstm/io/state_dict.h"
#include "xlstm/lm_generate.h"
#include "xlstm/tokenizer/tokenizer.h"
#include "xlstm/train/distributed.h"
#include "xlstm/train/experiment_config.h"

namespace xlstm::testing {
namespace {

#ifdef XLSTM_CLI

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The "loss" of each train record of metrics.jsonl.
std::vector<double> train_losses(const std::string& metrics) {
  std::vector<double> losses;
  const std::regex loss(R"re("loss":([-0-9.e+]+))re");
  for (const auto& line : lines_of(metrics)) {
    std::smatch m;
    if (line.find(R"("split":"train")") != std::string::npos && std::regex_search(line, m, loss))
      losses.push_back(std::stod(m[1]));
  }
  return losses;
}

// Token files of three Brown documents and the tiny config trained on them once for the whole suite.
class CliLm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    TempDir corpus;
    for (const char* name : {"ca01", "cg22", "cp07"})
      write_bytes(corpus.file(name), read_bytes(shared_dir() + "/data/brown/" + name));
    const CliRun prepared = run_cli({"prepare-data", "--corpus", corpus.path(), "--tokenizer", gpt2_dir(), "--out",
                                     dir_->file("data"), "--val-fraction", "0.34"});
    ASSERT_EQ(prepared.code, 0) << prepared.err;
    trained_ = std::make_unique<CliRun>(train({"--output", run_dir()}));
  }
  static void TearDownTestSuite() {
    trained_.reset();
    dir_.reset();
  }

  // xlstm train with the tiny config on the suite's token files, one thread (robust on a busy machine).
  static CliRun train(std::vector<std::string> args) {
    std::vector<std::string> all{"train", "--config", source_path("configs/lm_brown_tiny.yaml"), "--threads", "1",
                                 "--set", "dataset.kwargs.train_file=" + dir_->file("data/train.bin"),
                                 "--set", "dataset.kwargs.validation_file=" + dir_->file("data/val.bin"),
                                 "--set", "dataset.kwargs.tokenizer=" + gpt2_dir()};
    all.insert(all.end(), args.begin(), args.end());
    return run_cli(all);
  }
  static std::string run_dir() { return dir_->file("run"); }
  static std::string file(const std::string& name) { return dir_->file(name); }

  static std::unique_ptr<TempDir> dir_;
  static std::unique_ptr<CliRun> trained_;
};
std::unique_ptr<TempDir> CliLm::dir_;
std::unique_ptr<CliRun> CliLm::trained_;

TEST_F(CliLm, TrainLossFallsAndCheckpointIsWritten) {
  ASSERT_EQ(trained_->code, 0) << trained_->err;
  const std::string& out = trained_->out;
  EXPECT_NE(out.find("model: xLSTM[1:1]"), std::string::npos) << out;
  EXPECT_NE(out.find("step 12 validation: loss"), std::string::npos) << out;
  EXPECT_NE(out.find("step 24 validation: loss"), std::string::npos) << out;
  EXPECT_NE(out.find("| validation perplexity |"), std::string::npos) << out;
  const auto losses = train_losses(run_dir() + "/metrics.jsonl");
  ASSERT_EQ(losses.size(), 6u);  // every 4 of 24 steps
  EXPECT_LT(losses.back(), losses.front() - 1.0) << "loss " << losses.front() << " -> " << losses.back();
  // The validation record carries perplexity = exp(loss).
  const std::regex record(R"re("loss":([-0-9.e+]+),"perplexity":([-0-9.e+]+))re");
  const auto lines = lines_of(run_dir() + "/metrics.jsonl");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(lines.back(), m, record)) << lines.back();
  EXPECT_NEAR(std::stod(m[2]), std::exp(std::stod(m[1])), 1e-3 * std::stod(m[2]));
  // The checkpoint: step 24, the config with absolute paths.
  EXPECT_NE(read_bytes(run_dir() + "/checkpoint/trainer.json").find("\"step\": 24"), std::string::npos);
  char tokenizer[4096];
  ASSERT_NE(::realpath(gpt2_dir().c_str(), tokenizer), nullptr);
  EXPECT_NE(read_bytes(run_dir() + "/checkpoint/config.yaml").find("tokenizer: \"" + std::string(tokenizer) + "\"\n"),
            std::string::npos)
      << "the tokenizer path is stored absolute";
  const auto results = lines_of(run_dir() + "/results.md");
  ASSERT_FALSE(results.empty());
  EXPECT_EQ(results.back().rfind("| xLSTM[1:1] (2 blocks, E 32) | ", 0), 0u) << results.back();
  EXPECT_NE(results.back().find(" | 3,072 | "), std::string::npos) << "24 steps x 4 x 32 tokens: " << results.back();
}

// --nproc 2: two local processes (gloo) training slices of each batch; only rank 0 reports and writes
// the run (the equality with one process is tested in test_distributed.cpp).
TEST_F(CliLm, TrainsInTwoProcesses) {
  if (!train::backend_available("gloo")) GTEST_SKIP() << "this build has no gloo backend";
  const std::string dir = file("two_ranks");
  const CliRun run = train({"--output", dir, "--nproc", "2", "--set", "training.num_steps=8"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("[rank 0] xlstm train"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("[rank 1] xlstm train"), std::string::npos) << "only rank 0 reports: " << run.out;
  EXPECT_NE(read_bytes(dir + "/checkpoint/trainer.json").find("\"step\": 8"), std::string::npos);
  const CliRun bad = train({"--output", file("bad_nproc"), "--nproc", "0"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--nproc must be a positive integer"), std::string::npos) << bad.err;
}

TEST_F(CliLm, ResumeContinuesTheStepCountExactly) {
  const std::string dir = file("resumed");
  const CliRun first = train({"--output", dir, "--stop-after-steps", "8"});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("stopped after step 8 of 24"), std::string::npos) << first.out;
  EXPECT_NE(read_bytes(dir + "/checkpoint/trainer.json").find("\"step\": 8"), std::string::npos);
  EXPECT_FALSE(file_exists(dir + "/results.md"));
  const CliRun second = train({"--resume", dir});
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_NE(second.out.find("24 steps in"), std::string::npos) << second.out;
  EXPECT_NE(second.out.find("(resumed at step 8)"), std::string::npos) << second.out;
  EXPECT_NE(read_bytes(dir + "/checkpoint/trainer.json").find("\"step\": 24"), std::string::npos);
  // The same weights as the run that was not interrupted.
  io::SafetensorsReader straight(run_dir() + "/checkpoint/model.safetensors"), resumed(dir + "/checkpoint/model.safetensors");
  ASSERT_EQ(straight.keys(), resumed.keys());
  for (const auto& key : straight.keys()) EXPECT_TRUE(torch::equal(straight.tensor(key), resumed.tensor(key))) << key;
}

TEST_F(CliLm, GenerateProducesTheRequestedTokens) {
  ASSERT_EQ(trained_->code, 0) << trained_->err;
  const std::vector<std::string> greedy{"generate", "--checkpoint", run_dir(), "--prompt", "The jury said",
                                        "--max-new-tokens", "12", "--temperature", "0"};
  const CliRun a = run_cli(greedy), b = run_cli(greedy);
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(a.out, b.out) << "greedy is deterministic";
  EXPECT_NE(a.err.find("[12 tokens in "), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("greedy"), std::string::npos) << a.err;

  // The same text as the library's generation from the same checkpoint: the prompt, then the decoded tokens.
  const auto config = from_yaml_file<train::LMExperimentConfig>(run_dir() + "/checkpoint/config.yaml");
  xLSTMLMModel model(config.model);
  io::load_state_dict(*model, run_dir() + "/checkpoint/model.safetensors");
  model->eval();
  const auto tok = tokenizer::Tokenizer::from_path(gpt2_dir());
  GenerationConfig greedy_config;
  greedy_config.max_new_tokens = 12;
  greedy_config.vocab_limit = tok.vocab_size();
  const auto result = generate(model, {tok.encode("The jury said", false)}, greedy_config);
  ASSERT_EQ(result.tokens[0].size(), 12u);
  EXPECT_EQ(a.out, "The jury said" + tok.decode(result.tokens[0]) + "\n");

  const auto sampled = [&](const std::string& seed) {
    return run_cli({"generate", "--checkpoint", run_dir() + "/checkpoint", "--prompt", "The jury said", "--max-new-tokens",
                    "12", "--temperature", "1.5", "--top-k", "1000", "--top-p", "0.99", "--seed", seed});
  };
  const CliRun s1 = sampled("3"), s2 = sampled("3"), s3 = sampled("4");
  ASSERT_EQ(s1.code, 0) << s1.err;
  EXPECT_NE(s1.err.find("[12 tokens in "), std::string::npos) << s1.err;
  EXPECT_EQ(s1.out, s2.out) << "the same seed gives the same text";
  EXPECT_NE(s1.out, s3.out) << "another seed gives another text";
}

TEST_F(CliLm, GenerateBatch) {
  ASSERT_EQ(trained_->code, 0) << trained_->err;
  write_bytes(file("prompts.txt"), "The jury said\n\nIt was\n");
  const CliRun r = run_cli({"generate", "--checkpoint", run_dir(), "--batch", file("prompts.txt"), "--max-new-tokens", "5",
                            "--temperature", "0"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("=== prompt 1 ===\nThe jury said", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\n\n=== prompt 2 ===\nIt was"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("[10 tokens in "), std::string::npos) << r.err;
  // Each block is what the prompt gives alone.
  const CliRun alone = run_cli({"generate", "--checkpoint", run_dir(), "--prompt", "It was", "--max-new-tokens", "5",
                                "--temperature", "0"});
  EXPECT_NE(r.out.find(alone.out), std::string::npos) << r.out << "\nalone:\n" << alone.out;
}

TEST_F(CliLm, TrainErrors) {
  const std::string tiny = source_path("configs/lm_brown_tiny.yaml");
  EXPECT_CLI_ERROR(run_cli({"train"}), 2, "--config is required");
  EXPECT_CLI_ERROR(run_cli({"train", "--config", file("none.yaml")}), 1, "cannot read config file", "none.yaml");
  EXPECT_CLI_ERROR(train({"--output", file("a"), "--resume", file("b")}), 2, "--output or --resume, not both");
  EXPECT_CLI_ERROR(train({"--threads", "0"}), 2, "--threads");
  EXPECT_CLI_ERROR(train({"--time-limit", "soon"}), 2, "--time-limit: 'soon' is not a number");
  EXPECT_CLI_ERROR(train({"--stop-after-steps", "-2"}), 2, "--stop-after-steps");
  EXPECT_CLI_ERROR(train({"--set", "training.warmup=5"}), 1, "lm_brown_tiny.yaml: training.warmup: unknown key");
  EXPECT_CLI_ERROR(train({"--set", "dataset.kwargs.train_file=" + file("none.bin")}), 1,
                   "dataset.kwargs.train_file: ", "none.bin: No such file or directory");
  EXPECT_CLI_ERROR(train({"--set", "dataset.kwargs.vocab_size=50000", "--output", file("v")}), 1,
                   "gpt2: a vocabulary of 50257 tokens, but dataset.kwargs.vocab_size is 50000");
  EXPECT_CLI_ERROR(train({"--set", "model.vocab_size=1000"}), 1, "model.vocab_size: 1000 is smaller than the dataset's vocabulary");
  EXPECT_CLI_ERROR(train({"--set", "dataset.kwargs.context_length=100000", "--output", file("c")}), 1,
                   "fewer than sequence length + 1");
  write_bytes(file("not_tokens.bin"), "plain text");
  EXPECT_CLI_ERROR(train({"--set", "dataset.kwargs.validation_file=" + file("not_tokens.bin"), "--output", file("t")}), 1,
                   "not_tokens.bin");
  EXPECT_CLI_ERROR(train({"--resume", file("nothing")}), 1, "no checkpoint to resume");
  EXPECT_CLI_ERROR(train({"--output", run_dir()}), 1, "holds an earlier run");
  EXPECT_CLI_ERROR(train({"--resume", run_dir(), "--set", "training.lr=0.02"}), 1, "was written for another config",
                   "lr: 0.02");
  EXPECT_CLI_ERROR(train({"--set", "dataset.kwargs.tokenizer=" + file("none")}), 1, "dataset.kwargs.tokenizer: ",
                   "none: No such file or directory");
  EXPECT_CLI_ERROR(run_cli({"train", "--config", tiny, "--set", "training.batch_size=0"}), 1, "training.batch_size: 0");
}

TEST_F(CliLm, GenerateErrors) {
  ASSERT_EQ(trained_->code, 0) << trained_->err;
  const auto gen = [&](std::vector<std::string> args) {
    std::vector<std::string> all{"generate", "--checkpoint", run_dir()};
    all.insert(all.end(), args.begin(), args.end());
    return run_cli(all);
  };
  EXPECT_CLI_ERROR(run_cli({"generate", "--prompt", "x"}), 2, "--checkpoint is required");
  EXPECT_CLI_ERROR(gen({}), 2, "give exactly one of --prompt and --batch");
  EXPECT_CLI_ERROR(gen({"--prompt", "x", "--batch", "y"}), 2, "give exactly one of --prompt and --batch");
  EXPECT_CLI_ERROR(gen({"--prompt", "x", "--temperature", "-1"}), 2, "--temperature: -1 must be 0 (greedy) or a positive number");
  EXPECT_CLI_ERROR(gen({"--prompt", "x", "--temperature", "hot"}), 2, "--temperature: 'hot' is not a number");
  EXPECT_CLI_ERROR(gen({"--prompt", "x", "--top-p", "0"}), 2, "--top-p: 0 is not in (0, 1]");
  EXPECT_CLI_ERROR(gen({"--prompt", "x", "--top-p", "1.5"}), 2, "--top-p: 1.5 is not in (0, 1]");
  EXPECT_CLI_ERROR(gen({"--prompt", "x", "--top-k", "-1"}), 2, "--top-k: -1 must be 0 (off) or positive");
  EXPECT_CLI_ERROR(gen({"--prompt", "x", "--max-new-tokens", "-1"}), 2, "--max-new-tokens must not be negative");
  EXPECT_CLI_ERROR(gen({"--prompt", "x", "--repetition-penalty", "0"}), 2, "--repetition-penalty");
  EXPECT_CLI_ERROR(gen({"--prompt", "x", "--seed", "-3"}), 2, "--seed must not be negative");
  EXPECT_CLI_ERROR(gen({"--prompt", "x", "--device", "tpu"}), 2, "--device: 'tpu' is not cpu or cuda");
  EXPECT_CLI_ERROR(gen({"--prompt", ""}), 1, "prompt 1 has no tokens");
  EXPECT_CLI_ERROR(gen({"--batch", file("no_prompts.txt")}), 1, "no_prompts.txt: cannot read the prompts file");
  EXPECT_CLI_ERROR(gen({"--prompt", "x", "--tokenizer", file("none")}), 1, "none");
  EXPECT_CLI_ERROR(run_cli({"generate", "--checkpoint", file("none"), "--prompt", "x"}), 1, "no such checkpoint folder");
  EXPECT_CLI_ERROR(run_cli({"generate", "--checkpoint", file("data"), "--prompt", "x"}), 1,
                   "not a checkpoint of xlstm train (no config.yaml)");

  // A checkpoint whose config does not match its weights.
  TempDir bad;
  for (const char* name : {"model.safetensors", "optimizer.pt", "trainer.json"})
    write_bytes(bad.file(name), read_bytes(run_dir() + "/checkpoint/" + name));
  const std::string config = read_bytes(run_dir() + "/checkpoint/config.yaml");
  write_bytes(bad.file("config.yaml"), std::regex_replace(config, std::regex("embedding_dim: 32"), "embedding_dim: 64"));
  EXPECT_CLI_ERROR(run_cli({"generate", "--checkpoint", bad.path(), "--prompt", "x"}), 1,
                   "the weights do not fit the model of its config.yaml", "token_embedding.weight");
  write_bytes(bad.file("config.yaml"), "training: {}\nmodel: {}\n");
  EXPECT_CLI_ERROR(run_cli({"generate", "--checkpoint", bad.path(), "--prompt", "x"}), 1, "config.yaml");
}

#else
TEST(CliLm, NotBuilt) { GTEST_SKIP() << "the xlstm tool is not built (XLSTM_BUILD_TOOL=OFF)"; }
#endif

}  // namespace
}  // namespace xlstm::testing
