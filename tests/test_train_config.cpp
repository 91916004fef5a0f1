// Experiment configs: the shipped files load with the reference's interpolations resolved, round-trip
// through to_yaml, and bad configs (unknown keys, impossible values, broken interpolations and
// overrides) give errors naming the key and the value.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing.h"
#include "xlstm/train/experiment_config.h"

namespace {

using namespace xlstm;
using train::FormLangExperimentConfig;
using train::MQARExperimentConfig;

std::string config_file(const std::string& name) { return xlstm::testing::source_path("configs/" + name); }

// The message of the ConfigError that reading `file` with `overrides` raises (without the file name).
template <class Config>
std::string error_of(const std::string& file, const std::vector<std::string>& overrides) {
  try {
    from_yaml_file<Config>(config_file(file), overrides);
  } catch (const ConfigError& e) {
    const std::string prefix = config_file(file) + ": ";
    const std::string what = e.what();
    return what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : what;
  }
  return "no error";
}

std::string parity_error(const std::vector<std::string>& overrides) {
  return error_of<FormLangExperimentConfig>("parity_xlstm11.yaml", overrides);
}
std::string mqar_error(const std::vector<std::string>& overrides) {
  return error_of<MQARExperimentConfig>("mqar_xlstm11.yaml", overrides);
}

TEST(TrainConfig, ShippedParityConfigsHaveTheReferenceValues) {
  const std::vector<std::pair<std::string, std::vector<int64_t>>> models{
      {"01", {0, 1}}, {"10", {}}, {"11", {1}}};
  for (const auto& [name, slstm_at] : models) {
    const auto c = from_yaml_file<FormLangExperimentConfig>(config_file("parity_xlstm" + name + ".yaml"));
    EXPECT_EQ(c.training.batch_size, 256);
    EXPECT_EQ(c.training.num_steps, 20000);
    EXPECT_EQ(c.training.lr_decay_until_steps, 20000) << "${.num_steps}";
    EXPECT_DOUBLE_EQ(c.training.lr_decay_factor, 0.001);
    EXPECT_EQ(c.training.lr_warmup_steps, 2000);
    EXPECT_EQ(c.model.context_length, 256) << "${dataset.kwargs.context_length}";
    EXPECT_EQ(c.model.vocab_size, 3) << "${dataset.kwargs.vocab_size}";
    EXPECT_EQ(c.model.embedding_dim, 64);
    EXPECT_EQ(c.model.slstm_at, slstm_at);
    const auto& d = c.dataset.kwargs;
    EXPECT_EQ(d.count.train, 5120000);
    EXPECT_EQ(d.task_params("train").max_sequence_length, 40);
    EXPECT_EQ(d.task_params("validation").min_sequence_length, 40);
    EXPECT_EQ(d.task_params("validation").max_sequence_length, 256);
    EXPECT_EQ(d.split_parts(), (std::vector<std::string>{"train", "validation", "test"}));
    // xLSTM[1:0]'s file has no test override: its test split has the train lengths.
    EXPECT_EQ(d.task_params("test").min_sequence_length, name == "10" ? 3 : 40);
  }
}

TEST(TrainConfig, EveryShippedExperimentConfigLoadsAndRoundTrips) {
  for (const std::string model : {"01", "10", "11"}) {
    for (const std::string suffix : {"", "_quick"}) {
      const auto parity = from_yaml_file<FormLangExperimentConfig>(config_file("parity_xlstm" + model + suffix + ".yaml"));
      EXPECT_TRUE(config_equal(from_yaml<FormLangExperimentConfig>(to_yaml(parity)), parity));
      const auto mqar = from_yaml_file<MQARExperimentConfig>(config_file("mqar_xlstm" + model + suffix + ".yaml"));
      EXPECT_TRUE(config_equal(from_yaml<MQARExperimentConfig>(to_yaml(mqar)), mqar));
      if (suffix.empty()) {
        EXPECT_EQ(mqar.dataset.kwargs.vocab_size, 8192);
        EXPECT_EQ(mqar.dataset.kwargs.input_seq_len, 256);
        EXPECT_EQ(mqar.model.context_length, 256);
        EXPECT_EQ(mqar.model.embedding_dim, 128);
      }
    }
  }
}

TEST(TrainConfig, OverridesAndSubparsAreApplied) {
  const auto c = from_yaml_file<MQARExperimentConfig>(
      config_file("mqar_xlstm10.yaml"),
      {"dataset.kwargs.num_kv_pairs=64", "training.num_steps=10", "training.lr_warmup_steps=2",
       "dataset.kwargs.subpar.validation_n16.num_kv_pairs=16", "model.slstm_at=[1]"});
  EXPECT_EQ(c.dataset.kwargs.num_kv_pairs, 64);
  EXPECT_EQ(c.training.lr_decay_until_steps, 10) << "the interpolation sees the override";
  EXPECT_EQ(c.model.slstm_at, (std::vector<int64_t>{1}));
  EXPECT_EQ(c.dataset.kwargs.split_parts(), (std::vector<std::string>{"train", "validation_n16"}));
  EXPECT_EQ(c.dataset.kwargs.params("validation_n16").num_kv_pairs, 16);
  // A quoted override value is a string: the int field refuses it.
  EXPECT_EQ(mqar_error({"training.batch_size='5'"}), "training.batch_size: expected an integer, got \"5\"");
}

TEST(TrainConfig, UnknownKeysAreErrors) {
  EXPECT_EQ(parity_error({"training.num_stepz=5"}), "training.num_stepz: unknown key (did you mean num_steps?)");
  EXPECT_EQ(parity_error({"dataset.kwargs.synth_lang=parity"}).rfind("dataset.kwargs.synth_lang: unknown key", 0), 0u);
  EXPECT_EQ(parity_error({"dataset.kwargs.subpar.validation.max_len=3"}).rfind("dataset.kwargs.subpar.validation.max_len: unknown key", 0), 0u);
  EXPECT_EQ(mqar_error({"dataset.kwargs.num_kv_pair=3"}), "dataset.kwargs.num_kv_pair: unknown key (did you mean num_kv_pairs?)");
  EXPECT_EQ(mqar_error({"optimizer.lr=3"}).rfind("optimizer: unknown key", 0), 0u);
  // An MQAR file read as a formal-language experiment fails on the first MQAR-only key.
  EXPECT_EQ(error_of<FormLangExperimentConfig>("mqar_xlstm10.yaml", {}).rfind("dataset.kwargs.input_seq_len: unknown key", 0), 0u);
}

TEST(TrainConfig, ImpossibleValuesNameKeyAndValue) {
  EXPECT_EQ(mqar_error({"dataset.kwargs.num_kv_pairs=65"}),
            "dataset.kwargs.num_kv_pairs: 65 needs 4 * num_kv_pairs = 260 <= input_seq_len 256 (N pairs and N queries, "
            "each query at an even offset)");
  EXPECT_EQ(mqar_error({"dataset.kwargs.subpar.validation.num_kv_pairs=100"}).rfind(
                "dataset.kwargs.subpar.validation.num_kv_pairs: 100 needs", 0),
            0u);
  EXPECT_EQ(mqar_error({"dataset.kwargs.input_seq_len=8192"}),
            "dataset.kwargs.vocab_size: 8192 must be larger than input_seq_len 8192");
  EXPECT_EQ(parity_error({"dataset.kwargs.subpar.validation.max_sequence_length=300"}),
            "dataset.kwargs.subpar.validation.max_sequence_length: 300 exceeds context_length 256");
  EXPECT_EQ(parity_error({"dataset.kwargs.max_sequence_length=2", "dataset.kwargs.min_sequence_length=3"}),
            "dataset.kwargs.max_sequence_length: 2 is below min_sequence_length 3");
  EXPECT_EQ(parity_error({"dataset.kwargs.synth_lang_type=sorting"}).rfind(
                "dataset.kwargs.synth_lang_type: \"sorting\" is not one of parity, even_pairs", 0),
            0u);
  EXPECT_EQ(parity_error({"dataset.kwargs.count.train=0"}), "dataset.kwargs.count.train: 0 must be a positive integer");
  EXPECT_EQ(parity_error({"dataset.kwargs.subpar.dev={}"}),
            "dataset.kwargs.subpar.dev: a split part's name must start with train, validation or test");
  EXPECT_EQ(parity_error({"dataset.kwargs.subpar.train_a={}", "dataset.kwargs.subpar.train_b={}"}),
            "dataset.kwargs.subpar.train_b: a second train part (after train_a); training reads one");
  EXPECT_EQ(parity_error({"dataset.kwargs.subpar=[1]"}), "dataset.kwargs.subpar: expected a mapping, got a list");
  EXPECT_EQ(parity_error({"dataset.kwargs.shift=300"}).rfind("dataset.kwargs.shift: 300 leaves no tokens", 0), 0u);
  EXPECT_EQ(parity_error({"dataset.name=mqar"}),
            "dataset.name: \"mqar\" is not form_language (the dataset this program and config type take)");
  EXPECT_EQ(parity_error({"model.vocab_size=2"}),
            "model.vocab_size: 2 is smaller than the dataset's vocabulary (dataset.kwargs.vocab_size 3)");
  EXPECT_EQ(parity_error({"model.mlstm_block.mlstm.num_heads=3"}).rfind("model.mlstm_block.mlstm.num_heads: 3 does not divide", 0), 0u);
  EXPECT_EQ(parity_error({"training.batch_size=0"}), "training.batch_size: 0 must be a positive integer");
  EXPECT_EQ(parity_error({"training.lr_decay_until_steps=1000"}),
            "training.lr_decay_until_steps: 1000 is before the end of the warm-up (lr_warmup_steps 2000)");
  EXPECT_EQ(parity_error({"training.amp_precision=float16"}),
            "training.amp_precision: \"float16\" is not supported (it needs loss scaling); use bfloat16 or float32");
  EXPECT_EQ(parity_error({"training.device=tpu"}), "training.device: \"tpu\" is not one of cuda, cpu, auto");
  EXPECT_EQ(parity_error({"training.lr_decay_factor=0"}), "training.lr_decay_factor: 0.0 is not in (0, 1]");
  EXPECT_EQ(parity_error({"training.gradient_clip_norm=-1"}), "training.gradient_clip_norm: -1.0 must be a positive number");
}

TEST(TrainConfig, InterpolationsResolveOrFailClearly) {
  const auto read = [&](const std::string& extra) { return from_yaml<train::TrainingConfig>(extra); };
  EXPECT_EQ(read("num_steps: 100\nlr_warmup_steps: 10\nlr_decay_until_steps: ${.num_steps}\n").decay_until(), 100);
  EXPECT_EQ(read("num_steps: 100\nlr_warmup_steps: ${num_steps}\nlr_decay_until_steps: ${.lr_warmup_steps}\n").decay_until(), 100)
      << "chains resolve";
  const auto message = [&](const std::string& text) {
    try {
      read(text);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("num_steps: ${.missing}\n"), "num_steps: interpolation \"${.missing}\": no key missing");
  EXPECT_EQ(message("num_steps: ${.lr_warmup_steps}\nlr_warmup_steps: ${num_steps}\n"),
            "num_steps: interpolation \"${.lr_warmup_steps}\" is part of a cycle");
  EXPECT_EQ(message("num_steps: ${..x}\n"), "num_steps: interpolation \"${..x}\" goes above the top of the file");
  EXPECT_EQ(message("device: cuda${x}\n"), "device: interpolation inside a string is not supported, got \"cuda${x}\"");
  // Relative to the mapping that holds the value, across sections.
  const auto c = from_yaml<FormLangExperimentConfig>(
      "training:\n  num_steps: 40\n  lr_warmup_steps: 4\n  lr_decay_until_steps: ${..model.num_blocks}\n"
      "model:\n  num_blocks: 30\n  mlstm_block: {}\n  context_length: ${dataset.kwargs.context_length}\n  vocab_size: 3\n"
      "dataset:\n  name: form_language\n  kwargs: {context_length: 16}\n");
  EXPECT_EQ(c.training.decay_until(), 30);
  EXPECT_EQ(c.model.context_length, 16);
}

TEST(TrainConfig, AliasGraphsDoNotTrapTheInterpolationWalk) {
  const auto message = [](const std::string& text) {
    try {
      from_yaml<xLSTMBlockStackConfig>(text);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // A cycle: the walk stops where a node is its own ancestor; the reader reports the unknown key.
  EXPECT_EQ(message("num_blocks: 2\nembedding_dim: ${num_blocks}\nmlstm_block: &a\n  mlstm: *a\n").rfind("mlstm_block.mlstm.mlstm: unknown key", 0), 0u);
  // Exponential expansion through aliases (10^7 leaves) ends in an error instead of a long walk.
  std::string text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 6; ++i) {
    const std::string prev = "*l" + std::to_string(i - 1);
    text += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [" + prev;
    for (int j = 1; j < 10; ++j) text += ", " + prev;
    text += "]\n";
  }
  EXPECT_NE(message(text).find("the document expands to more than 1000000 values"), std::string::npos) << message(text);
}

TEST(TrainConfig, BadOverridesAreErrors) {
  EXPECT_EQ(parity_error({"training.num_steps"}), "override \"training.num_steps\" is not of the form key.path=value");
  EXPECT_EQ(parity_error({"training..lr=1"}), "override \"training..lr=1\" has an empty key");
  EXPECT_EQ(parity_error({"training.lr.x=1"}), "training.lr: is not a mapping, so the override cannot set x");
  EXPECT_EQ(parity_error({"training.lr=[1"}).rfind("training.lr: override value \"[1\" is not valid YAML", 0), 0u);
  // A missing mapping is created: a new section is checked like any other key.
  EXPECT_EQ(parity_error({"extra.x=1"}).rfind("extra: unknown key", 0), 0u);
}

}  // namespace
