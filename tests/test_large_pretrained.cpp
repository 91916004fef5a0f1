// load_pretrained_large: both folder layouts, sharded, either stored weight mode, dtype on load.
#include <gtest/gtest.h>

#include "large_testing.h"
#include "temp_dir.h"
#include "testing.h"
#include "xlstm/large/pretrained.h"
#include "xlstm/large/weight_mode.h"

namespace xlstm {
namespace {

using io::FolderLayout;

struct SavedModel {
  xLSTMLargeConfig config = testing::small_large_config();
  large::xLSTMLarge model = testing::seeded_large_model(config, 11);
  torch::Tensor ids = testing::random_ids(2, 13, config.vocab_size, 3);
  torch::Tensor logits() { return std::get<0>(model->forward(ids)); }
};

class LargePretrained : public ::testing::TestWithParam<FolderLayout> {};

TEST_P(LargePretrained, ShardedFolderLoadsTheSameModel) {
  SavedModel saved;
  testing::TempDir dir;
  const std::string folder = dir.path() + "/ckpt";
  io::save_checkpoint_folder(*saved.model, saved.config, folder, GetParam(), /*max_shard_bytes=*/4096);
  ASSERT_GT(io::find_checkpoint_files(folder).shard_files.size(), 2u);

  auto loaded = large::load_pretrained_large(folder, {torch::kCPU, torch::kFloat32});
  EXPECT_TRUE(config_equal(loaded.config, saved.config));
  EXPECT_FALSE(loaded.model->is_training());
  EXPECT_TRUE(torch::equal(std::get<0>(loaded.model->forward(saved.ids)), saved.logits()));
}

TEST_P(LargePretrained, FusedConfigOverSingleWeightsIsConverted) {
  SavedModel saved;
  testing::TempDir dir;
  const std::string folder = dir.path() + "/ckpt";
  xLSTMLargeConfig fused_config = saved.config;
  fused_config.weight_mode = "fused";
  io::save_checkpoint_folder(*saved.model, fused_config, folder, GetParam());
  EXPECT_EQ(large::stored_weight_mode(io::find_checkpoint_files(folder)), "single");

  auto loaded = large::load_pretrained_large(folder, {torch::kCPU, torch::kFloat32});
  EXPECT_EQ(loaded.model->config.weight_mode, "fused");
  XLSTM_EXPECT_CLOSE(std::get<0>(loaded.model->forward(saved.ids)), saved.logits(), 1e-6);
}

TEST_P(LargePretrained, FusedWeightsLoadIntoASingleConfig) {
  SavedModel saved;
  auto fused = large::convert_weight_mode(saved.model, "fused");
  testing::TempDir dir;
  const std::string folder = dir.path() + "/ckpt";
  io::save_checkpoint_folder(*fused, saved.config, folder, GetParam());
  EXPECT_EQ(large::stored_weight_mode(io::find_checkpoint_files(folder)), "fused");

  auto loaded = large::load_pretrained_large(folder, {torch::kCPU, torch::kFloat32});
  EXPECT_EQ(loaded.model->config.weight_mode, "single");
  XLSTM_EXPECT_CLOSE(std::get<0>(loaded.model->forward(saved.ids)), saved.logits(), 1e-6);
}

TEST_P(LargePretrained, LoadsInTheRequestedDtype) {
  SavedModel saved;
  testing::TempDir dir;
  const std::string folder = dir.path() + "/ckpt";
  io::save_checkpoint_folder(*saved.model, saved.config, folder, GetParam());
  auto loaded = large::load_pretrained_large(folder, {torch::kCPU, torch::kBFloat16});
  for (const auto& p : loaded.model->parameters()) EXPECT_EQ(p.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(loaded.model->lm_head->weight, saved.model->lm_head->weight.to(torch::kBFloat16)));
}

INSTANTIATE_TEST_SUITE_P(Layouts, LargePretrained,
                         ::testing::Values(FolderLayout::reference, FolderLayout::hugging_face),
                         [](const auto& info) {
                           return info.param == FolderLayout::reference ? "reference" : "hugging_face";
                         });

}  // namespace
}  // namespace xlstm
