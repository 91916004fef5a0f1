// Single <-> fused weights of xLSTM-Large: identical logits, round trips of state dicts for any number
// of blocks (the reference's converter breaks beyond 10), module conversion, bad input.
#include "large_testing.h"
#include "testing.h"
#include "xlstm/io/state_dict.h"
#include "xlstm/large/weight_mode.h"

namespace xlstm {
namespace {

TEST(LargeWeightMode, SingleAndFusedGiveIdenticalLogits) {
  for (bool bias : {false, true}) {
    SCOPED_TRACE(bias ? "with bias" : "without bias");
    auto cfg = testing::small_large_config("inference", 8);
    cfg.use_bias = bias;
    auto single = testing::seeded_large_model(cfg, 31);
    auto fused = large::convert_weight_mode(single, "fused");
    EXPECT_EQ(fused->config.weight_mode, "fused");
    EXPECT_TRUE(fused->named_parameters().contains("backbone.blocks.1.mlstm_layer.qkv_opreact.weight"));
    const auto ids = testing::random_ids(2, 19, cfg.vocab_size, 32);
    torch::NoGradGuard no_grad;
    const auto [a, sa] = single->forward(ids);
    const auto [b, sb] = fused->forward(ids);
    EXPECT_TRUE(torch::allclose(a, b, 1e-6, 1e-6));
    XLSTM_EXPECT_CLOSE(b, a, 1e-6);
    XLSTM_EXPECT_CLOSE(sb[1].C, sa[1].C, 1e-6);
    // And back: the very same tensors.
    auto back = large::convert_weight_mode(fused, "single");
    const auto original = io::state_dict(*single), restored = io::state_dict(*back);
    ASSERT_EQ(original.size(), restored.size());
    for (const auto& [key, t] : original) EXPECT_TRUE(torch::equal(restored.at(key), t)) << key;
  }
}

TEST(LargeWeightMode, StateDictRoundTripWithManyBlocks) {
  auto cfg = testing::small_large_config();
  cfg.num_blocks = 12;  // keys of block 1 share the prefix of blocks 10 and 11
  auto model = testing::seeded_large_model(cfg, 33);
  const auto single = io::state_dict(*model);
  const auto fused = large::fuse_weights(single);
  for (int b = 0; b < 12; ++b) {
    const std::string p = "backbone.blocks." + std::to_string(b) + ".";
    EXPECT_EQ(fused.at(p + "mlstm_layer.qkv_opreact.weight").size(0), 2 * cfg.qk_dim() + 2 * cfg.v_dim());
    EXPECT_EQ(fused.at(p + "mlstm_layer.ifgate_preact.bias").size(0), 2 * cfg.num_heads);
    EXPECT_TRUE(torch::equal(fused.at(p + "ffn.proj_up_gate_z.weight").narrow(0, 0, cfg.ffn_dim()),
                             single.at(p + "ffn.proj_up_gate.weight")));
    EXPECT_TRUE(torch::equal(fused.at(p + "mlstm_layer.qkv_opreact.weight").narrow(0, cfg.qk_dim(), cfg.qk_dim()),
                             single.at(p + "mlstm_layer.k.weight")));
    EXPECT_FALSE(fused.count(p + "mlstm_layer.q.weight"));
  }
  EXPECT_EQ(fused.size(), single.size() - 12 * (3 + 2 + 1));  // 4->1 weights, 4->2 gate tensors, 2->1 ffn
  auto fused_cfg = cfg;
  fused_cfg.weight_mode = "fused";
  large::xLSTMLarge fused_model(fused_cfg);
  io::load_state_dict(*fused_model, fused, /*strict=*/true);

  const auto back = large::split_fused_weights(fused, cfg);
  ASSERT_EQ(back.size(), single.size());
  for (const auto& [key, t] : single) EXPECT_TRUE(torch::equal(back.at(key), t)) << key;
}

TEST(LargeWeightMode, BadInputNamesTheKey) {
  auto cfg = testing::small_large_config();
  auto single = io::state_dict(*testing::seeded_large_model(cfg, 34));
  single.erase("backbone.blocks.1.mlstm_layer.v.weight");
  try {
    large::fuse_weights(single);
    FAIL() << "missing member accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("backbone.blocks.1.mlstm_layer.v.weight"), std::string::npos) << e.what();
  }

  auto fused = large::fuse_weights(io::state_dict(*testing::seeded_large_model(cfg, 34)));
  auto narrower = cfg;
  narrower.qk_dim_factor = 0.25;  // only the q/k rows of qkv_opreact change
  try {
    large::split_fused_weights(fused, narrower);
    FAIL() << "mis-sized fused tensor accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("qkv_opreact.weight"), std::string::npos) << e.what();
  }
  EXPECT_THROW(large::convert_weight_mode(testing::seeded_large_model(cfg, 34), "halved"), ConfigError);
}

}  // namespace
}  // namespace xlstm
