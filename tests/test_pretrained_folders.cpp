// Checkpoint folders of both layouts (xlstm/io/pretrained.h): round trips through save and load,
// sharding and the index, hub names in the files, dtype conversion, hub-cache symbolic links, a
// hub-layout folder assembled by hand, and loading into any module (buffers, non-strict).
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstring>

#include "pretrained_testing.h"
#include "temp_dir.h"
#include "xlstm/io/hf_config.h"
#include "xlstm/io/pretrained.h"

namespace xlstm::testing {
namespace {

using io::FolderLayout;

// Same names, shapes, dtypes and bytes.
void expect_identical(const torch::nn::Module& actual, const torch::nn::Module& expected) {
  const auto a = actual.named_parameters(), e = expected.named_parameters();
  ASSERT_EQ(a.keys(), e.keys());
  for (const auto& item : e) {
    const torch::Tensor& x = a[item.key()];
    const torch::Tensor& y = item.value();
    ASSERT_EQ(x.sizes(), y.sizes()) << item.key();
    ASSERT_EQ(x.scalar_type(), y.scalar_type()) << item.key();
    EXPECT_EQ(std::memcmp(x.contiguous().data_ptr(), y.contiguous().data_ptr(), x.numel() * x.element_size()), 0)
        << item.key();
  }
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

struct LayoutCase {
  const char* name;
  FolderLayout layout;
  uint64_t max_shard_bytes;
  friend void PrintTo(const LayoutCase& c, std::ostream* os) { *os << c.name; }
};

class PretrainedRoundTrip : public ::testing::TestWithParam<LayoutCase> {};

TEST_P(PretrainedRoundTrip, SaveThenLoadIsBitIdenticalInBothLayouts) {
  const LayoutCase& param = GetParam();
  const bool hub = param.layout == FolderLayout::hugging_face;
  const bool sharded = param.max_shard_bytes < io::kDefaultMaxShardBytes;
  torch::manual_seed(1);
  const auto config = small_large_config();
  auto saved = large_like_module(config, torch::kBFloat16);
  TempDir dir;
  io::save_checkpoint_folder(*saved, config, dir.path(), param.layout, param.max_shard_bytes);

  // The files: config, then one model.safetensors, or numbered shards (with the index for the hub).
  const auto entries = dir.entries();
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries[0], hub ? "config.json" : "config.yaml");
  std::vector<std::string> shards(entries.begin() + 1, entries.end());
  if (hub && sharded) {
    ASSERT_EQ(shards.back(), "model.safetensors.index.json");
    shards.pop_back();
  }
  if (!sharded) {
    EXPECT_EQ(shards, std::vector<std::string>{"model.safetensors"});
  } else {
    ASSERT_GT(shards.size(), 2u);
    for (size_t i = 0; i < shards.size(); ++i) {
      char expected[64];
      if (hub) {
        std::snprintf(expected, sizeof expected, "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
      } else {
        std::snprintf(expected, sizeof expected, "model_%zu.safetensors", i);
      }
      // entries() sorts by name; model_10 would sort before model_2, but there are fewer than 10 here.
      EXPECT_EQ(shards[i], expected);
    }
  }

  // Every file respects the size bound unless it holds a single tensor, and carries format=pt.
  std::set<std::string> stored;
  for (const auto& shard : shards) {
    io::SafetensorsReader reader(dir.file(shard));
    EXPECT_EQ(reader.metadata().at("format"), "pt");
    uint64_t bytes = 0;
    for (const auto& key : reader.keys()) {
      bytes += reader.info(key).end - reader.info(key).begin;
      stored.insert(key);
    }
    if (reader.keys().size() > 1) EXPECT_LE(bytes, param.max_shard_bytes) << shard;
  }
  // Hub names in hub files, module names in reference files.
  EXPECT_EQ(stored.count("backbone.embeddings.weight"), hub ? 1u : 0u);
  EXPECT_EQ(stored.count("embedding.weight"), hub ? 0u : 1u);
  EXPECT_EQ(stored.size(), saved->named_parameters().size());

  auto loaded = large_like_module(config, torch::kBFloat16, /*fill=*/false);
  const auto result = io::load_checkpoint_folder(*loaded, dir.path());
  EXPECT_TRUE(result.ok());
  expect_identical(*loaded, *saved);
  EXPECT_EQ(io::read_large_config(dir.path()), config);
}

// The small config in bf16 holds ~240 KB (embedding and head 12 KiB each, a block ~108 KB); 40 KB
// shards split it into several files.
INSTANTIATE_TEST_SUITE_P(Pretrained, PretrainedRoundTrip,
                         ::testing::Values(LayoutCase{"Reference", FolderLayout::reference, io::kDefaultMaxShardBytes},
                                           LayoutCase{"ReferenceSharded", FolderLayout::reference, 40000},
                                           LayoutCase{"HuggingFace", FolderLayout::hugging_face, io::kDefaultMaxShardBytes},
                                           LayoutCase{"HuggingFaceSharded", FolderLayout::hugging_face, 40000}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(PretrainedFolders, IndexListsEveryTensorAndTheTotalSize) {
  torch::manual_seed(2);
  const auto config = small_large_config();
  auto module = large_like_module(config, torch::kFloat32);
  TempDir dir;
  io::save_checkpoint_folder(*module, config, dir.path(), FolderLayout::hugging_face, 100000);
  const auto index = nlohmann::json::parse(read_bytes(dir.file("model.safetensors.index.json")));
  uint64_t total = 0;
  std::set<std::string> files;
  for (const auto& item : module->named_parameters()) {
    const std::string hub_name = item.key() == "embedding.weight" ? "backbone.embeddings.weight" : item.key();
    ASSERT_TRUE(index["weight_map"].contains(hub_name)) << hub_name;
    const std::string file = index["weight_map"][hub_name];
    EXPECT_TRUE(io::SafetensorsReader(dir.file(file)).contains(hub_name)) << file;
    files.insert(file);
    total += item.value().numel() * 4;
  }
  EXPECT_EQ(index["weight_map"].size(), module->named_parameters().size());
  EXPECT_EQ(index["metadata"]["total_size"].get<uint64_t>(), total);
  EXPECT_GT(files.size(), 1u);
}

// A hub folder as transformers would write it, assembled here from save_safetensors and hand-written
// JSON (not by save_checkpoint_folder), with the files as symbolic links into a blob folder the way a
// hub cache snapshot holds them.
TEST(PretrainedFolders, LoadsAHandWrittenHubSnapshotWithLinkedFiles) {
  torch::manual_seed(3);
  const auto config = small_large_config();
  auto source = large_like_module(config, torch::kFloat32);
  std::map<std::string, torch::Tensor> first, second;
  nlohmann::json weight_map;
  for (const auto& item : source->named_parameters()) {
    const bool in_first = item.key().find("blocks.1.") == std::string::npos && item.key() != "lm_head.weight";
    const std::string hub_name = item.key() == "embedding.weight" ? "backbone.embeddings.weight" : item.key();
    (in_first ? first : second)[hub_name] = item.value();
    weight_map[hub_name] = in_first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  TempDir blobs, snapshot;
  io::save_safetensors(blobs.file("blob1"), first, {{"format", "pt"}});
  io::save_safetensors(blobs.file("blob2"), second, {{"format", "pt"}});
  write_bytes(blobs.file("blob3"), nlohmann::json{{"metadata", {{"total_size", 1}}}, {"weight_map", weight_map}}.dump());
  write_bytes(blobs.file("blob4"), R"({"model_type": "xlstm", "embedding_dim": 64, "num_heads": 4, "num_blocks": 2,
    "vocab_size": 96, "architectures": ["xLSTMForCausalLM"], "torch_dtype": "float32"})");
  const std::pair<const char*, const char*> links[] = {{"blob1", "model-00001-of-00002.safetensors"},
                                                       {"blob2", "model-00002-of-00002.safetensors"},
                                                       {"blob3", "model.safetensors.index.json"},
                                                       {"blob4", "config.json"}};
  for (const auto& [blob, name] : links) ASSERT_EQ(::symlink(blobs.file(blob).c_str(), snapshot.file(name).c_str()), 0);

  // fp32 files into a bf16 module: converted tensor by tensor.
  auto loaded = large_like_module(config, torch::kBFloat16, /*fill=*/false);
  io::load_checkpoint_folder(*loaded, snapshot.path());
  const auto expected = source->named_parameters();
  for (const auto& item : loaded->named_parameters()) {
    ASSERT_EQ(item.value().scalar_type(), torch::kBFloat16);
    EXPECT_TRUE(torch::equal(item.value(), expected[item.key()].to(torch::kBFloat16))) << item.key();
  }
  // Missing fields of config.json take transformers' defaults.
  auto expected_config = io::hf_default_large_config();
  expected_config.embedding_dim = 64, expected_config.num_heads = 4, expected_config.num_blocks = 2;
  expected_config.vocab_size = 96;
  EXPECT_EQ(io::read_large_config(snapshot.path()), expected_config);
}

// Any module loads by its parameter and buffer names, integer buffers included; non-strict loading
// copies what fits and reports the rest.
TEST(PretrainedFolders, AnyModuleWithBuffersAndNonStrictLoading) {
  struct Small : torch::nn::Module {
    Small() {
      linear = register_module("linear", torch::nn::Linear(3, 2));
      steps = register_buffer("steps", torch::tensor({7, 8}, torch::kLong));
    }
    torch::nn::Linear linear{nullptr};
    torch::Tensor steps;
  };
  torch::manual_seed(4);
  Small saved;
  TempDir dir;
  io::save_checkpoint_folder(saved, small_large_config(), dir.path(), FolderLayout::reference);
  Small loaded;
  {
    torch::NoGradGuard no_grad;
    loaded.steps.zero_();
  }
  EXPECT_TRUE(io::load_checkpoint_folder(loaded, dir.path()).ok());
  EXPECT_TRUE(torch::equal(loaded.linear->weight, saved.linear->weight));
  EXPECT_TRUE(torch::equal(loaded.steps, saved.steps));

  struct Other : torch::nn::Module {
    Other() { linear = register_module("linear", torch::nn::Linear(3, 4)); }
    torch::nn::Linear linear{nullptr};
  };
  Other other;
  const torch::Tensor bias_before = other.linear->bias.clone();
  const auto result = io::load_checkpoint_folder(other, dir.path(), {FolderLayout::automatic, /*strict=*/false});
  EXPECT_TRUE(result.missing.empty());
  ASSERT_EQ(result.unexpected.size(), 1u);
  EXPECT_TRUE(starts_with(result.unexpected[0], "steps (model.safetensors)")) << result.unexpected[0];
  ASSERT_EQ(result.mismatched.size(), 2u);  // weight (2, 3) vs (4, 3), bias (2) vs (4)
  EXPECT_NE(result.mismatched[0].find("in model.safetensors"), std::string::npos) << result.mismatched[0];
  EXPECT_TRUE(torch::equal(other.linear->bias, bias_before));
}

TEST(PretrainedFolders, SaveReplacesACheckpointButNothingElse) {
  const auto config = small_large_config();
  auto first = large_like_module(config, torch::kFloat32);
  auto second = large_like_module(config, torch::kFloat32);
  TempDir dir;
  io::save_checkpoint_folder(*first, config, dir.path(), FolderLayout::reference);
  io::save_checkpoint_folder(*second, config, dir.path(), FolderLayout::hugging_face, 50000);
  EXPECT_EQ(dir.entries().front(), "config.json");  // the reference files are gone
  auto loaded = large_like_module(config, torch::kFloat32, /*fill=*/false);
  io::load_checkpoint_folder(*loaded, dir.path());
  expect_identical(*loaded, *second);

  TempDir other;
  write_bytes(other.file("notes.txt"), "keep me");
  try {
    io::save_checkpoint_folder(*first, config, other.path(), FolderLayout::reference);
    FAIL() << "replaced a folder that is not a checkpoint";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("not a checkpoint folder"), std::string::npos) << e.what();
  }
  EXPECT_EQ(other.entries(), std::vector<std::string>{"notes.txt"});
  EXPECT_THROW(io::save_checkpoint_folder(*first, config, dir.path(), FolderLayout::automatic), CheckpointError);
  auto bad = config;
  bad.num_heads = 3;  // does not divide 32
  EXPECT_THROW(io::save_checkpoint_folder(*first, bad, dir.path(), FolderLayout::reference), ConfigError);
  auto reloaded = large_like_module(config, torch::kFloat32, /*fill=*/false);
  io::load_checkpoint_folder(*reloaded, dir.path());
  expect_identical(*reloaded, *second);  // failed saves left the checkpoint as it was
}

}  // namespace
}  // namespace xlstm::testing
