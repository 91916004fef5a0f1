// Bad checkpoint folders (xlstm/io/pretrained.h): every error names the file and the key at fault,
// and a failed load leaves the module exactly as it was.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <functional>

#include "pretrained_testing.h"
#include "temp_dir.h"
#include "xlstm/io/pretrained.h"

namespace xlstm::testing {
namespace {

using io::FolderLayout;
using json = nlohmann::json;

constexpr const char* kShard1 = "model-00001-of-00002.safetensors";
constexpr const char* kShard2 = "model-00002-of-00002.safetensors";

// A sharded hub-layout checkpoint of the small config, damaged by `damage`; loading it into a fresh
// module must raise an error whose message holds every string of `expected`, and leave the module's
// values unchanged.
struct BadFolder {
  const char* name;
  std::function<void(const TempDir&)> damage;
  std::vector<std::string> expected;
  friend void PrintTo(const BadFolder& c, std::ostream* os) { *os << c.name; }
};

json read_json(const std::string& path) { return json::parse(read_bytes(path)); }

void edit_index(const TempDir& dir, const std::function<void(json&)>& edit) {
  json index = read_json(dir.file("model.safetensors.index.json"));
  edit(index);
  write_bytes(dir.file("model.safetensors.index.json"), index.dump());
}

class PretrainedBadFolder : public ::testing::TestWithParam<BadFolder> {};

TEST_P(PretrainedBadFolder, ErrorNamesFileAndKeyAndLeavesModuleUntouched) {
  const auto config = small_large_config();
  auto saved = large_like_module(config, torch::kFloat32);
  TempDir dir;
  // ~480 KB of fp32 weights in 300 KB files: blocks 0 and 1 (~216 KB each) land in different files,
  // lm_head.weight in the second.
  io::save_checkpoint_folder(*saved, config, dir.path(), FolderLayout::hugging_face, 300000);
  ASSERT_EQ(dir.entries(), (std::vector<std::string>{"config.json", kShard1, kShard2, "model.safetensors.index.json"}));
  GetParam().damage(dir);

  torch::manual_seed(9);
  auto module = large_like_module(config, torch::kFloat32);
  std::map<std::string, torch::Tensor> before;
  for (const auto& item : module->named_parameters()) before[item.key()] = item.value().clone();
  try {
    io::load_checkpoint_folder(*module, dir.path());
    FAIL() << "loaded a bad folder";
  } catch (const std::exception& e) {  // CheckpointError or ConfigError
    for (const auto& text : GetParam().expected)
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << "\"" << text << "\" not in: " << e.what();
  }
  for (const auto& item : module->named_parameters())
    EXPECT_TRUE(torch::equal(item.value(), before[item.key()])) << item.key() << " changed";
}

// A shard that the index lists, with `key` removed from it (the other tensors rewritten unchanged).
void drop_tensor(const TempDir& dir, const std::string& shard, const std::string& key) {
  auto tensors = io::load_safetensors(dir.file(shard));
  tensors.erase(key);
  io::save_safetensors(dir.file(shard), tensors);
}

INSTANTIATE_TEST_SUITE_P(
    Pretrained, PretrainedBadFolder,
    ::testing::Values(
        BadFolder{"MissingShard", [](const TempDir& d) { ::unlink(d.file(kShard2).c_str()); },
                  {kShard2, "does not exist", "model.safetensors.index.json", "weight_map[\""}},
        BadFolder{"IndexPointsAtMissingFile",
                  [](const TempDir& d) {
                    edit_index(d, [](json& i) { i["weight_map"]["lm_head.weight"] = "model-00003-of-00002.safetensors"; });
                  },
                  {"model-00003-of-00002.safetensors", "\"lm_head.weight\"", "does not exist"}},
        BadFolder{"IndexKeyNotInShard",
                  [](const TempDir& d) { edit_index(d, [](json& i) { i["weight_map"]["backbone.extra.weight"] = kShard1; }); },
                  {"model.safetensors.index.json", "\"backbone.extra.weight\"", kShard1, "does not hold it"}},
        BadFolder{"ShardTensorNotInIndex",
                  [](const TempDir& d) { edit_index(d, [](json& i) { i["weight_map"].erase("lm_head.weight"); }); },
                  {kShard2, "\"lm_head.weight\"", "does not list"}},
        BadFolder{"IndexNamesTheWrongShard",
                  [](const TempDir& d) { edit_index(d, [](json& i) { i["weight_map"]["lm_head.weight"] = kShard1; }); },
                  {kShard2, "\"lm_head.weight\"", "lists in " + std::string(kShard1)}},
        BadFolder{"IndexEscapesTheFolder",
                  [](const TempDir& d) { edit_index(d, [](json& i) { i["weight_map"]["lm_head.weight"] = "../x.safetensors"; }); },
                  {"weight_map[\"lm_head.weight\"]", "not a file name inside the folder"}},
        BadFolder{"IndexWrongType",
                  [](const TempDir& d) { edit_index(d, [](json& i) { i["metadata"]["total_size"] = "big"; }); },
                  {"model.safetensors.index.json", "metadata.total_size"}},
        BadFolder{"IndexNotJson", [](const TempDir& d) { write_bytes(d.file("model.safetensors.index.json"), "{\"weight_map\": "); },
                  {"model.safetensors.index.json", "not valid JSON"}},
        BadFolder{"TensorMissingFromShardAndIndex",
                  [](const TempDir& d) {
                    drop_tensor(d, kShard2, "lm_head.weight");
                    edit_index(d, [](json& i) { i["weight_map"].erase("lm_head.weight"); });
                  },
                  {"does not fit the model", "missing: lm_head.weight"}},
        BadFolder{"ShapeDoesNotFit",
                  [](const TempDir& d) {
                    auto tensors = io::load_safetensors(d.file(kShard2));
                    tensors["lm_head.weight"] = torch::zeros({95, 64});
                    io::save_safetensors(d.file(kShard2), tensors);
                  },
                  {"mismatched: lm_head.weight: checkpoint (95, 64) in " + std::string(kShard2) + " vs model (96, 64)"}},
        BadFolder{"IntegerTensorForAFloatParameter",
                  [](const TempDir& d) {
                    auto tensors = io::load_safetensors(d.file(kShard2));
                    tensors["lm_head.weight"] = torch::zeros({96, 64}, torch::kLong);
                    io::save_safetensors(d.file(kShard2), tensors);
                  },
                  {"lm_head.weight: checkpoint dtype Long in " + std::string(kShard2)}},
        BadFolder{"TruncatedShard",
                  [](const TempDir& d) {
                    const std::string bytes = read_bytes(d.file(kShard2));
                    write_bytes(d.file(kShard2), bytes.substr(0, bytes.size() - 100));
                  },
                  {kShard2, "data_offsets", "extend beyond the data section"}},
        BadFolder{"NoConfig", [](const TempDir& d) { ::unlink(d.file("config.json").c_str()); },
                  {"not a checkpoint folder", "config.yaml", "config.json"}},
        BadFolder{"BothConfigs", [](const TempDir& d) { write_bytes(d.file("config.yaml"), "embedding_dim: 64\n"); },
                  {"both config.yaml", "config.json", "name the layout"}},
        BadFolder{"NoIndexNoSingleFile", [](const TempDir& d) { ::unlink(d.file("model.safetensors.index.json").c_str()); },
                  {"neither model.safetensors.index.json nor model.safetensors"}}),
    [](const auto& info) { return std::string(info.param.name); });

// The weights do not depend on the config file, so a bad config fails read_large_config, naming the
// file and the key.
TEST(PretrainedErrors, ConfigFieldOfWrongTypeNamesFileAndKey) {
  const auto config = small_large_config();
  auto module = large_like_module(config, torch::kFloat32);
  for (const FolderLayout layout : {FolderLayout::hugging_face, FolderLayout::reference}) {
    TempDir dir;
    io::save_checkpoint_folder(*module, config, dir.path(), layout);
    const bool hub = layout == FolderLayout::hugging_face;
    const std::string file = dir.file(hub ? "config.json" : "config.yaml");
    std::string text = read_bytes(file);
    const std::string from = hub ? "\"num_heads\": 4" : "num_heads: 4";
    ASSERT_NE(text.find(from), std::string::npos) << text;
    text.replace(text.find(from), from.size(), hub ? "\"num_heads\": 4.5" : "num_heads: 4.5");
    write_bytes(file, text);
    try {
      io::read_large_config(dir.path());
      FAIL() << "read a config with num_heads 4.5";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key_path(), "num_heads");
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("4.5"), std::string::npos) << e.what();
    }
  }
}

// The reference layout reads model_0, model_1, ... until a number is missing (as the reference
// does), so a lost middle shard shows up as the tensors of it and of every later shard missing.
TEST(PretrainedErrors, ReferenceLayoutWithALostShardNamesTheMissingTensors) {
  const auto config = small_large_config();
  auto saved = large_like_module(config, torch::kFloat32);
  TempDir dir;
  io::save_checkpoint_folder(*saved, config, dir.path(), FolderLayout::reference, 100000);
  ASSERT_EQ(io::find_checkpoint_files(dir.path()).shard_files.size(), 6u);
  const auto lost = io::SafetensorsReader(dir.file("model_1.safetensors")).keys();
  ::unlink(dir.file("model_1.safetensors").c_str());
  auto module = large_like_module(config, torch::kFloat32);
  const torch::Tensor before = module->named_parameters()["embedding.weight"].clone();
  try {
    io::load_checkpoint_folder(*module, dir.path());
    FAIL() << "loaded a folder without model_1.safetensors";
  } catch (const CheckpointError& e) {
    for (const auto& key : lost)
      EXPECT_NE(std::string(e.what()).find("missing: " + key + "\n"), std::string::npos) << key << " in " << e.what();
    EXPECT_NE(std::string(e.what()).find("missing: lm_head.weight"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(torch::equal(module->named_parameters()["embedding.weight"], before));
}

TEST(PretrainedErrors, FolderThatDoesNotExist) {
  TempDir dir;
  EXPECT_THROW(io::find_checkpoint_files(dir.file("nothing")), CheckpointError);
  write_bytes(dir.file("config.yaml"), "embedding_dim: 64\n");
  try {
    io::find_checkpoint_files(dir.path());
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("neither model.safetensors nor model_0.safetensors"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace xlstm::testing
