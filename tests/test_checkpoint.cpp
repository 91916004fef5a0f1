// Training checkpoints: resuming from one reproduces an uninterrupted run bit for bit; incomplete,
// corrupt or foreign folders raise CheckpointError; a failed save keeps the previous checkpoint.
#include "temp_dir.h"
#include "testing.h"
#include "xlstm/io/checkpoint.h"

namespace xlstm::testing {
namespace {

const std::string kConfig = "model:\n  embedding_dim: 3\n";

struct Trainer {
  torch::nn::Linear model;
  torch::optim::Adam optimizer;
  explicit Trainer(uint64_t seed)
      : model((torch::manual_seed(seed), torch::nn::Linear(3, 2))),
        optimizer(model->parameters(), torch::optim::AdamOptions(0.05).weight_decay(0.01)) {}

  // One Adam step on a fixed regression problem that depends on the step index.
  void train(int64_t step) {
    const auto x = torch::linspace(-1, 1, 24).reshape({8, 3}) * static_cast<double>(step + 1);
    const auto y = torch::sin(x.sum(1, /*keepdim=*/true)).repeat({1, 2});
    optimizer.zero_grad();
    torch::mse_loss(model->forward(x), y).backward();
    optimizer.step();
  }
};

TEST(Checkpoint, ResumingReproducesAnUninterruptedRun) {
  TempDir dir;
  Trainer uninterrupted(0);
  for (int64_t step = 0; step < 6; ++step) uninterrupted.train(step);

  Trainer first(0);
  for (int64_t step = 0; step < 3; ++step) first.train(step);
  io::save_training_checkpoint(dir.file("ckpt"), *first.model, first.optimizer, 3, kConfig, {{"run", "a"}});
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"ckpt"});  // no temporary folder left behind

  Trainer resumed(42);  // different initial weights, fresh optimizer state
  const io::TrainingState state = io::load_training_checkpoint(dir.file("ckpt") + "/", *resumed.model, resumed.optimizer);
  EXPECT_EQ(state.step, 3);
  EXPECT_EQ(state.config_yaml, kConfig);
  EXPECT_EQ(state.metadata, (std::map<std::string, std::string>{{"run", "a"}}));
  for (int64_t step = state.step; step < 6; ++step) resumed.train(step);

  EXPECT_TRUE(torch::equal(resumed.model->weight, uninterrupted.model->weight));
  EXPECT_TRUE(torch::equal(resumed.model->bias, uninterrupted.model->bias));
}

TEST(Checkpoint, OverwritesAnOlderCheckpoint) {
  TempDir dir;
  Trainer run(1);
  io::save_training_checkpoint(dir.file("ckpt"), *run.model, run.optimizer, 1, kConfig);
  run.train(0);
  io::save_training_checkpoint(dir.file("ckpt"), *run.model, run.optimizer, 2, "new config");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"ckpt"});

  Trainer loaded(2);
  const auto state = io::load_training_checkpoint(dir.file("ckpt"), *loaded.model, loaded.optimizer);
  EXPECT_EQ(state.step, 2);
  EXPECT_EQ(state.config_yaml, "new config");
  EXPECT_TRUE(torch::equal(loaded.model->weight, run.model->weight));
}

TEST(Checkpoint, FailedSaveKeepsThePreviousCheckpoint) {
  TempDir dir;
  Trainer run(3);
  io::save_training_checkpoint(dir.file("ckpt"), *run.model, run.optimizer, 5, kConfig);
  const std::string before = read_bytes(dir.file("ckpt/model.safetensors"));
  run.train(0);
  // Metadata that cannot be written (not UTF-8), and a module with a tensor safetensors cannot hold.
  EXPECT_THROW(io::save_training_checkpoint(dir.file("ckpt"), *run.model, run.optimizer, 6, kConfig,
                                            {{"bad", std::string("\xff")}}),
               CheckpointError);
  torch::nn::Linear complex_model(torch::nn::LinearOptions(3, 2));
  complex_model->to(torch::kComplexFloat);
  EXPECT_THROW(io::save_training_checkpoint(dir.file("ckpt"), *complex_model, run.optimizer, 6, kConfig),
               CheckpointError);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"ckpt"});
  EXPECT_EQ(read_bytes(dir.file("ckpt/model.safetensors")), before);
  Trainer loaded(4);
  EXPECT_EQ(io::load_training_checkpoint(dir.file("ckpt"), *loaded.model, loaded.optimizer).step, 5);
}

TEST(Checkpoint, RefusesToReplaceSomethingElse) {
  TempDir dir;
  Trainer run(5);
  write_bytes(dir.file("notes.txt"), "keep me");
  EXPECT_THROW(io::save_training_checkpoint(dir.path(), *run.model, run.optimizer, 1, kConfig), CheckpointError);
  EXPECT_THROW(io::save_training_checkpoint(dir.file("notes.txt"), *run.model, run.optimizer, 1, kConfig),
               CheckpointError);
  EXPECT_THROW(io::save_training_checkpoint(dir.file("ckpt"), *run.model, run.optimizer, -1, kConfig),
               CheckpointError);
  EXPECT_EQ(read_bytes(dir.file("notes.txt")), "keep me");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"notes.txt"});
}

// The message of the CheckpointError that `load` raises.
template <typename F>
std::string error_of(F load) {
  try {
    load();
  } catch (const CheckpointError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no CheckpointError";
  return "";
}

TEST(Checkpoint, MissingFilesAreAllNamed) {
  TempDir dir;
  Trainer run(6);
  const std::string ckpt = dir.file("ckpt");
  EXPECT_EQ(error_of([&] { io::load_training_checkpoint(ckpt, *run.model, run.optimizer); }),
            ckpt + ": no training checkpoint folder here");
  io::save_training_checkpoint(ckpt, *run.model, run.optimizer, 1, kConfig);
  ASSERT_EQ(::remove((ckpt + "/optimizer.pt").c_str()), 0);
  ASSERT_EQ(::remove((ckpt + "/config.yaml").c_str()), 0);
  EXPECT_EQ(error_of([&] { io::load_training_checkpoint(ckpt, *run.model, run.optimizer); }),
            ckpt + ": incomplete training checkpoint, missing optimizer.pt, config.yaml");
}

TEST(Checkpoint, CorruptFilesRaiseNamingTheFile) {
  TempDir dir;
  Trainer run(7);
  run.train(0);
  int count = 0;
  // A fresh checkpoint with one file replaced; returns the error of loading it into `run`.
  const auto load_with = [&](const std::string& file, const std::string& bytes) {
    const std::string ckpt = dir.file("ckpt" + std::to_string(count++));
    io::save_training_checkpoint(ckpt, *run.model, run.optimizer, 1, kConfig);
    write_bytes(ckpt + "/" + file, bytes);
    Trainer target(8);
    const auto weight = target.model->weight.clone();
    const std::string message =
        error_of([&] { io::load_training_checkpoint(ckpt, *target.model, target.optimizer); });
    EXPECT_TRUE(torch::equal(target.model->weight, weight)) << "module modified by a failed load: " << message;
    const std::string prefix = ckpt + "/";  // every message names the file inside the folder
    return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
  };
  EXPECT_EQ(load_with("trainer.json", "not json"), "trainer.json: not a JSON object");
  EXPECT_EQ(load_with("trainer.json", R"({"format":"xlstm-training-checkpoint","version":2,"step":1,"metadata":{}})"),
            "trainer.json: version 2 is not supported (this library reads 1)");
  EXPECT_EQ(load_with("trainer.json", R"({"format":"xlstm-training-checkpoint","version":1,"step":-1,"metadata":{}})"),
            "trainer.json: step must be a non-negative integer, got -1");
  EXPECT_EQ(load_with("trainer.json", R"({"format":"other","version":1,"step":1,"metadata":{}})"),
            "trainer.json: format is \"other\", expected \"xlstm-training-checkpoint\"");
  EXPECT_EQ(load_with("trainer.json", R"({"format":"xlstm-training-checkpoint","version":1,"step":1})"),
            "trainer.json: missing field \"metadata\"");
  EXPECT_EQ(load_with("trainer.json", R"({"format":"xlstm-training-checkpoint","version":1,"step":1,"metadata":{"k":2}})"),
            "trainer.json: metadata \"k\" must be a string, got 2");
  EXPECT_EQ(load_with("optimizer.pt", "garbage").rfind("optimizer.pt: not a readable optimizer archive: ", 0), 0u);
  EXPECT_EQ(load_with("model.safetensors", std::string("\x10\0\0\0\0\0\0\0{}", 10)).rfind("model.safetensors: header length 16", 0), 0u);
}

TEST(Checkpoint, StateThatDoesNotFitIsRejected) {
  TempDir dir;
  Trainer run(9);
  run.train(0);
  const std::string ckpt = dir.file("ckpt");
  io::save_training_checkpoint(ckpt, *run.model, run.optimizer, 1, kConfig);

  // A model of another shape: the strict state dict load fails before the optimizer is touched.
  torch::nn::Linear wide(3, 4);
  torch::optim::Adam wide_optimizer(wide->parameters());
  const std::string model_error = error_of([&] { io::load_training_checkpoint(ckpt, *wide, wide_optimizer); });
  EXPECT_NE(model_error.find(ckpt + "/model.safetensors: the checkpoint does not fit the model"), std::string::npos)
      << model_error;
  EXPECT_TRUE(wide_optimizer.state().empty());

  // An optimizer over other parameters than the saved one.
  Trainer target(10);
  torch::optim::Adam weight_only({target.model->weight});
  const std::string optimizer_error =
      error_of([&] { io::load_training_checkpoint(ckpt, *target.model, weight_only); });
  EXPECT_EQ(optimizer_error.rfind(ckpt + "/optimizer.pt: does not fit the optimizer: ", 0), 0u) << optimizer_error;
}

}  // namespace
}  // namespace xlstm::testing
