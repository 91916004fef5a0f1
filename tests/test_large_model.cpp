// xLSTM-Large model: the reference fixture (logits, every block's final state, step-by-step logits
// within 1e-5 relative), parameter names and counts (the 7B config on the meta device), init,
// bf16 weights with fp32 states.
#include <set>

#include "large_testing.h"
#include "testing.h"
#include "xlstm/io/state_dict.h"
#include "xlstm/large/model.h"

namespace xlstm {
namespace {

using testing::fixture_path;
using testing::rel_error;

constexpr double kFixtureTol = 1e-5;

large::xLSTMLarge fixture_model() {
  auto cfg = from_yaml_file<xLSTMLargeConfig>(fixture_path("xlstm_large", "config.yaml"));
  large::xLSTMLarge model(cfg);
  io::load_state_dict(*model, fixture_path("xlstm_large", "weights.safetensors"), /*strict=*/true);
  return model;
}

TEST(LargeFixture, LogitsFinalStatesAndStepLogits) {
  auto model = fixture_model();
  const auto io = testing::load_fixture("xlstm_large", "io.safetensors");
  const auto& ids = io.at("input_ids");
  torch::NoGradGuard no_grad;

  auto [logits, state] = model->forward(ids);
  XLSTM_EXPECT_CLOSE(logits, io.at("logits"), kFixtureTol);
  std::cout << "[xlstm_large fixture] rel errors: logits " << rel_error(logits, io.at("logits"));
  ASSERT_EQ(state.size(), 2u);
  for (std::size_t b = 0; b < state.size(); ++b) {
    const std::string prefix = "state." + std::to_string(b) + ".";
    SCOPED_TRACE(prefix);
    XLSTM_EXPECT_CLOSE(state[b].C, io.at(prefix + "c"), kFixtureTol);
    XLSTM_EXPECT_CLOSE(state[b].n, io.at(prefix + "n"), kFixtureTol);
    XLSTM_EXPECT_CLOSE(state[b].m, io.at(prefix + "m"), kFixtureTol);
    EXPECT_EQ(state[b].C.scalar_type(), torch::kFloat32);
    std::cout << ", " << prefix << "{c,n,m} " << rel_error(state[b].C, io.at(prefix + "c")) << " "
              << rel_error(state[b].n, io.at(prefix + "n")) << " " << rel_error(state[b].m, io.at(prefix + "m"));
  }

  auto [steps, step_state] = testing::step_through(model, ids);
  XLSTM_EXPECT_CLOSE(steps, io.at("step_logits"), kFixtureTol);
  std::cout << ", step_logits " << rel_error(steps, io.at("step_logits")) << "\n";
  for (std::size_t b = 0; b < state.size(); ++b) XLSTM_EXPECT_CLOSE(step_state[b].C, state[b].C, kFixtureTol);
}

TEST(LargeModel, ParameterNamesAreTheReferenceStateDict) {
  auto cfg = from_yaml_file<xLSTMLargeConfig>(fixture_path("xlstm_large", "config.yaml"));
  large::xLSTMLarge model(cfg);
  std::set<std::string> ours, reference;
  for (const auto& p : model->named_parameters()) ours.insert(p.key());
  for (const auto& [key, tensor] : testing::load_fixture("xlstm_large", "weights.safetensors")) reference.insert(key);
  EXPECT_EQ(ours, reference);
  EXPECT_TRUE(ours.count("backbone.blocks.1.mlstm_layer.ogate_preact.weight"));

  cfg.use_bias = true;
  cfg.weight_mode = "fused";
  large::xLSTMLarge fused(cfg);
  std::set<std::string> fused_names;
  for (const auto& p : fused->named_parameters()) fused_names.insert(p.key());
  for (const char* key : {"backbone.blocks.0.mlstm_layer.qkv_opreact.bias", "backbone.blocks.0.mlstm_layer.ifgate_preact.bias",
                          "backbone.blocks.1.ffn.proj_up_gate_z.bias", "backbone.out_norm.bias",
                          "backbone.blocks.0.mlstm_layer.multihead_norm.bias"})
    EXPECT_TRUE(fused_names.count(key)) << key;
  EXPECT_FALSE(fused_names.count("backbone.blocks.0.mlstm_layer.q.weight"));
  EXPECT_FALSE(fused_names.count("lm_head.bias"));

  cfg.add_out_norm = false;
  large::xLSTMLarge no_out_norm(cfg);
  for (const auto& p : no_out_norm->named_parameters()) EXPECT_EQ(p.key().find("out_norm"), std::string::npos);
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

TEST(LargeModel, SevenBillionConfigOnTheMetaDevice) {
  const auto cfg = from_yaml_file<xLSTMLargeConfig>(testing::source_path("configs/xlstm_7b.yaml"));
  EXPECT_EQ(cfg.ffn_dim(), 10944);
  for (const char* mode : {"single", "fused"}) {
    auto c = cfg;
    c.weight_mode = mode;
    large::xLSTMLarge model(c, torch::TensorOptions().device(torch::kMeta).dtype(torch::kBFloat16));
    EXPECT_EQ(count_parameters(*model), 6865424896LL) << mode;
    EXPECT_EQ(count_parameters(*model->backbone->blocks[0]), 201666576LL) << mode;
    EXPECT_TRUE(model->lm_head->weight.is_meta());
    EXPECT_EQ(model->embedding->weight.scalar_type(), torch::kBFloat16);
  }
  large::xLSTMLarge model(cfg, torch::TensorOptions().device(torch::kMeta));
  const auto params = model->named_parameters();
  EXPECT_EQ(params["backbone.blocks.31.mlstm_layer.q.weight"].sizes(), torch::IntArrayRef({2048, 4096}));
  EXPECT_EQ(params["backbone.blocks.31.mlstm_layer.igate_preact.bias"].sizes(), torch::IntArrayRef({8}));
  EXPECT_EQ(params["backbone.blocks.0.ffn.proj_down.weight"].sizes(), torch::IntArrayRef({4096, 10944}));
}

TEST(LargeModel, ResetParametersIsPyTorchDefaults) {
  auto cfg = testing::small_large_config();
  cfg.embedding_dim = 256;
  cfg.num_heads = 4;
  cfg.use_bias = true;
  torch::manual_seed(3);
  large::xLSTMLarge model(cfg);
  const auto params = model->named_parameters();
  // Embedding N(0, 1).
  const auto& emb = params["embedding.weight"];
  EXPECT_NEAR(emb.mean().item<double>(), 0.0, 0.05);
  EXPECT_NEAR(emb.std().item<double>(), 1.0, 0.05);
  // Linear weights and biases U(±1/√fan_in): max |w| just below the bound, std bound/√3.
  for (const char* name : {"backbone.blocks.0.mlstm_layer.v.weight", "backbone.blocks.1.ffn.proj_down.weight",
                           "backbone.blocks.0.mlstm_layer.q.bias", "lm_head.weight"}) {
    SCOPED_TRACE(name);
    const auto& w = params[name];
    const int64_t fan_in = std::string(name).find("proj_down") != std::string::npos ? cfg.ffn_dim() : 256;
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    EXPECT_LE(w.abs().max().item<double>(), bound * (1 + 1e-6));  // fp32 rounding of a draw next to the bound
    EXPECT_GT(w.abs().max().item<double>(), 0.9 * bound);
    EXPECT_NEAR(w.std().item<double>(), bound / std::sqrt(3.0), 0.1 * bound);
  }
  // Norms: weight 1, bias 0.
  EXPECT_TRUE(torch::equal(params["backbone.blocks.1.norm_ffn.weight"], torch::ones({256})));
  EXPECT_TRUE(torch::equal(params["backbone.blocks.0.mlstm_layer.multihead_norm.bias"], torch::zeros({256})));
  EXPECT_TRUE(torch::equal(params["backbone.out_norm.weight"], torch::ones({256})));

  // reset_parameters() draws again.
  const auto before = params["backbone.blocks.0.mlstm_layer.k.weight"].clone();
  model->reset_parameters();
  EXPECT_FALSE(torch::equal(before, params["backbone.blocks.0.mlstm_layer.k.weight"]));
}

TEST(LargeModel, Bf16WeightsKeepFp32StatesAndTrackFp32) {
  const auto cfg = testing::small_large_config();
  auto model = testing::seeded_large_model(cfg, 5);
  large::xLSTMLarge bf16(cfg, torch::TensorOptions().dtype(torch::kBFloat16));  // built in bf16 directly
  for (const auto& p : bf16->parameters()) EXPECT_EQ(p.scalar_type(), torch::kBFloat16);
  io::load_state_dict(*bf16, io::state_dict(*model));  // the fp32 weights, rounded
  const auto ids = testing::random_ids(2, 21, cfg.vocab_size, 6);
  torch::NoGradGuard no_grad;
  auto [logits, state] = model->forward(ids);
  auto [logits16, state16] = bf16->forward(ids);
  EXPECT_EQ(logits16.scalar_type(), torch::kBFloat16);
  for (const auto& s : state16) {
    EXPECT_EQ(s.C.scalar_type(), torch::kFloat32);
    EXPECT_EQ(s.n.scalar_type(), torch::kFloat32);
    EXPECT_EQ(s.m.scalar_type(), torch::kFloat32);
  }
  XLSTM_EXPECT_CLOSE(logits16.to(torch::kFloat32), logits, 3e-2);
  XLSTM_EXPECT_CLOSE(state16[1].C, state[1].C, 3e-2);
  auto [step16, ignored] = bf16->step(ids.narrow(1, 0, 1), state16);
  EXPECT_EQ(step16.scalar_type(), torch::kBFloat16);
}

TEST(LargeModel, GradientsFlowInTrainMode) {
  const auto cfg = testing::small_large_config("train");
  auto model = testing::seeded_large_model(cfg, 7);
  const auto ids = testing::random_ids(2, 19, cfg.vocab_size, 8);
  auto [logits, state] = model->forward(ids);
  torch::nn::functional::cross_entropy(logits.reshape({-1, cfg.vocab_size}), ids.reshape(-1)).backward();
  for (const auto& p : model->named_parameters()) {
    SCOPED_TRACE(p.key());
    ASSERT_TRUE(p.value().grad().defined());
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>());
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0);
  }
}

}  // namespace
}  // namespace xlstm
