// Language-model training pieces: the token windows of the train and validation files, opening the
// token files of an LM config, its absolute paths, and the shipped LM configs (sizes, shared budget).
#include <gtest/gtest.h>

#include <unistd.h>

#include "temp_dir.h"
#include "testing.h"
#include "xlstm/data/error.h"
#include "xlstm/data/token_file.h"
#include "xlstm/lm_model.h"
#include "xlstm/train/lm_training.h"

namespace xlstm {
namespace {

// A token file of `n` tokens 0, 1, 2, ... (mod vocab).
std::string counting_file(const testing::TempDir& dir, const std::string& name, int64_t n, int64_t vocab) {
  std::vector<uint16_t> tokens(n);
  for (int64_t i = 0; i < n; ++i) tokens[i] = static_cast<uint16_t>(i % vocab);
  data::write_token_file(dir.file(name), tokens, vocab);
  return dir.file(name);
}

TEST(LmData, RandomWindowsAreTheRandomBatchesOfEachStep) {
  testing::TempDir dir;
  const data::TokenDataset tokens(counting_file(dir, "t.bin", 1000, 997));
  const auto windows = data::TokenWindows::random(tokens, 16, /*seed=*/7, /*batch_size=*/3, /*num_steps=*/5);
  EXPECT_EQ(windows.size(), 15);
  EXPECT_EQ(windows.sequence_length(), 16);
  for (int64_t step = 0; step < 5; ++step) {
    const auto batch = tokens.random_batch(7, step, 3, 16);
    const data::Batch made = data::make_batch(windows, step * 3, 3);
    EXPECT_TRUE(torch::equal(made.inputs, batch.narrow(1, 0, 16))) << step;
    EXPECT_TRUE(torch::equal(made.targets, batch.narrow(1, 1, 16))) << step;
  }
  EXPECT_FALSE(torch::equal(data::make_batch(windows, 0, 3).inputs, data::make_batch(windows, 3, 3).inputs));
  EXPECT_THROW(windows.get(15), std::out_of_range);
  EXPECT_EQ(windows.ignore_index(), -100);
  EXPECT_DOUBLE_EQ(windows.chance_accuracy(), 1.0 / 997);
  EXPECT_EQ(windows.description(), "t.bin, 1000 tokens, random windows of 16");
}

TEST(LmData, SequentialWindowsCoverTheFileInOrder) {
  testing::TempDir dir;
  const data::TokenDataset tokens(counting_file(dir, "v.bin", 100, 1000));
  const auto windows = data::TokenWindows::sequential(tokens, 16);
  EXPECT_EQ(windows.size(), 6);  // (100 - 1) / 16
  for (int64_t i = 0; i < windows.size(); ++i) {
    const data::Example e = windows.get(i);
    for (int64_t t = 0; t < 16; ++t) {
      EXPECT_EQ(e.input[t], i * 16 + t);
      EXPECT_EQ(e.target[t], i * 16 + t + 1);
    }
  }
  EXPECT_THROW(data::TokenWindows::sequential(tokens, 100), data::DataError);  // no window of 101 tokens
  EXPECT_THROW(data::TokenWindows::random(tokens, 8, 0, 2, 0), data::DataError);
}

TEST(LmData, OpeningTheTokenFilesChecksTheirVocabulary) {
  testing::TempDir dir;
  data::TokenFilesConfig files;
  files.train_file = counting_file(dir, "train.bin", 500, 300);
  files.validation_file = counting_file(dir, "val.bin", 200, 300);
  files.tokenizer = dir.path();
  files.vocab_size = 300;
  files.context_length = 8;
  train::TrainingConfig training;
  training.batch_size = 4;
  training.num_steps = 10;
  const auto sets = train::open_lm_datasets(files, training);
  EXPECT_EQ(sets.train->size(), 40);
  EXPECT_EQ(sets.validation->size(), 24);
  files.vocab_size = 301;
  try {
    train::open_lm_datasets(files, training);
    FAIL() << "a vocabulary mismatch was accepted";
  } catch (const data::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("train.bin: a vocabulary of 300 tokens, but dataset.kwargs.vocab_size is 301"),
              std::string::npos)
        << e.what();
  }
}

TEST(LmData, AbsolutePaths) {
  testing::TempDir dir;
  data::TokenFilesConfig files;
  files.train_file = counting_file(dir, "train.bin", 50, 10);
  files.validation_file = files.train_file;
  files.tokenizer = dir.path() + "/./";
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(::chdir(dir.path().c_str()), 0);
  files.train_file = "train.bin";  // relative to the working directory
  const auto resolved = data::with_absolute_paths(files);
  ASSERT_EQ(::chdir(cwd), 0);
  char real[4096];
  ASSERT_NE(::realpath(dir.path().c_str(), real), nullptr);
  EXPECT_EQ(resolved.train_file, std::string(real) + "/train.bin");
  EXPECT_EQ(resolved.tokenizer, std::string(real));
  files.train_file = resolved.train_file;
  files.validation_file = dir.file("missing.bin");
  try {
    data::with_absolute_paths(files);
    FAIL() << "a missing file was accepted";
  } catch (const data::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("dataset.kwargs.validation_file: " + dir.file("missing.bin") + ": No such file"),
              std::string::npos)
        << e.what();
  }
}

train::LMExperimentConfig shipped(const std::string& name) {
  return from_yaml_file<train::LMExperimentConfig>(testing::source_path("configs/" + name));
}

TEST(LmConfigs, ShareTheBudgetAndHaveTheDocumentedSizes) {
  const auto xlstm71 = shipped("lm_brown.yaml"), xlstm10 = shipped("lm_brown_xlstm10.yaml");
  EXPECT_TRUE(config_equal(xlstm71.training, xlstm10.training));
  EXPECT_TRUE(config_equal(xlstm71.dataset.kwargs, xlstm10.dataset.kwargs));
  EXPECT_NE(testing::read_bytes(testing::source_path("configs/lm_brown_transformer.yaml")).find("\nbase: lm_brown.yaml\n"),
            std::string::npos)
      << "the Transformer baseline trains with lm_brown.yaml's sections";
  EXPECT_EQ(train::xlstm_model_name(xlstm71.model), "xLSTM[7:1]");
  EXPECT_EQ(train::xlstm_model_name(xlstm10.model), "xLSTM[1:0]");
  EXPECT_EQ(train::xlstm_model_name(shipped("lm_brown_tiny.yaml").model), "xLSTM[1:1]");
  EXPECT_EQ(train::xlstm_model_name(from_yaml_file<xLSTMLMModelConfig>(testing::source_path("configs/xlstm_164m.yaml"))),
            "xLSTM[7:1]");
  // About 20M parameters each (GPT-2's vocabulary padded to 50304, tied head).
  for (const auto* c : {&xlstm71, &xlstm10}) {
    EXPECT_EQ(c->model.vocab_size, 50304);
    const xLSTMLMModel model(c->model);
    const int64_t n = train::parameter_count(*model);
    EXPECT_GT(n, 19'000'000);
    EXPECT_LT(n, 21'000'000);
  }
}

}  // namespace
}  // namespace xlstm
