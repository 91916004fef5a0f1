// NeurIPS-family models against the reference fixtures (outputs, states, step outputs, loss and
// every parameter gradient within 1e-5 relative), state continuation, parameter counts, init.
#include "testing.h"
#include "xlstm/block_stack.h"
#include "xlstm/io/state_dict.h"
#include "xlstm/lm_model.h"
#include "xlstm/mlstm/layer.h"

namespace xlstm {
namespace {

using testing::fixture_path;
using testing::load_fixture;

constexpr double kFixtureTol = 1e-5;

template <class Config>
Config fixture_config(const std::string& name) {
  return from_yaml_file<Config>(fixture_path(name, "config.yaml"));
}

template <class Module>
void load_fixture_weights(Module& module, const std::string& name) {
  io::load_state_dict(*module, fixture_path(name, "weights.safetensors"), /*strict=*/true);
}

TEST(ModelFixtures, MlstmLayer) {
  auto cfg = fixture_config<mLSTMLayerConfig>("mlstm_layer");
  mLSTMLayer layer(cfg);
  load_fixture_weights(layer, "mlstm_layer");
  auto io = load_fixture("mlstm_layer", "io.safetensors");
  torch::NoGradGuard no_grad;
  auto [y, state] = layer->forward(io.at("x"));
  XLSTM_EXPECT_CLOSE(y, io.at("y"), kFixtureTol);
  std::cout << "[mlstm_layer fixture] rel error y " << testing::rel_error(y, io.at("y")) << "\n";
  for (const char* backend : {"chunkwise", "recurrent"}) {
    auto other_cfg = cfg;
    other_cfg.backend = backend;
    other_cfg.chunk_size = 5;
    mLSTMLayer other(other_cfg);
    load_fixture_weights(other, "mlstm_layer");
    XLSTM_EXPECT_CLOSE(std::get<0>(other->forward(io.at("x"))), io.at("y"), kFixtureTol);
  }
}

TEST(ModelFixtures, BlockStackForwardAndStep) {
  auto cfg = fixture_config<xLSTMBlockStackConfig>("block_stack");
  xLSTMBlockStack stack(cfg);
  load_fixture_weights(stack, "block_stack");
  auto io = load_fixture("block_stack", "io.safetensors");
  torch::NoGradGuard no_grad;
  auto [y, state] = stack->forward(io.at("x"));
  XLSTM_EXPECT_CLOSE(y, io.at("y"), kFixtureTol);
  auto [steps, st] = testing::step_through(stack, io.at("x"));
  XLSTM_EXPECT_CLOSE(steps, io.at("step_y"), kFixtureTol);
  std::cout << "[block_stack fixture] rel errors: y " << testing::rel_error(y, io.at("y")) << ", step_y "
            << testing::rel_error(steps, io.at("step_y")) << "\n";
  XLSTM_EXPECT_CLOSE(st[1].slstm.slstm, state[1].slstm.slstm, kFixtureTol);
  XLSTM_EXPECT_CLOSE(st[0].mlstm.cell.C, state[0].mlstm.cell.C, kFixtureTol);
}

TEST(ModelFixtures, LmModelLogitsLossGradientsAndStep) {
  auto cfg = fixture_config<xLSTMLMModelConfig>("lm_model");
  xLSTMLMModel model(cfg);
  load_fixture_weights(model, "lm_model");
  auto io = load_fixture("lm_model", "io.safetensors");
  auto [logits, state] = model->forward(io.at("input_ids"));
  XLSTM_EXPECT_CLOSE(logits, io.at("logits"), kFixtureTol);
  auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, cfg.vocab_size}), io.at("targets").reshape(-1));
  XLSTM_EXPECT_CLOSE(loss.reshape({1}), io.at("loss"), kFixtureTol);
  loss.backward();
  int checked = 0;
  double worst_grad = 0;
  for (const auto& p : model->named_parameters()) {
    SCOPED_TRACE(p.key());
    ASSERT_TRUE(io.count("grad." + p.key())) << "no reference gradient for " << p.key();
    XLSTM_EXPECT_CLOSE(p.value().grad(), io.at("grad." + p.key()), kFixtureTol);
    worst_grad = std::max(worst_grad, testing::rel_error(p.value().grad(), io.at("grad." + p.key())));
    ++checked;
  }
  EXPECT_EQ(checked, 44);  // every parameter of the model has a reference gradient
  torch::NoGradGuard no_grad;
  auto steps = testing::step_through(model, io.at("input_ids")).first;
  XLSTM_EXPECT_CLOSE(steps, io.at("step_logits"), kFixtureTol);
  std::cout << "[lm_model fixture] rel errors: logits " << testing::rel_error(logits, io.at("logits")) << ", loss "
            << testing::rel_error(loss.reshape({1}), io.at("loss")) << ", worst gradient " << worst_grad
            << ", step_logits " << testing::rel_error(steps, io.at("step_logits")) << "\n";
}

// Prefill with forward, continue with forward/step: equal to one forward, for S beyond context_length
// (chunkwise path), odd lengths and S = 1.
TEST(Models, ForwardContinuationEqualsOneForward) {
  torch::manual_seed(0);
  auto cfg = fixture_config<xLSTMLMModelConfig>("lm_model");  // context_length 24
  xLSTMLMModel model(cfg);
  model->reset_parameters();
  torch::NoGradGuard no_grad;
  auto ids = torch::randint(0, cfg.vocab_size, {2, 61});
  auto full = std::get<0>(model->forward(ids));
  for (int64_t cut : {1, 7, 24, 40}) {
    auto [a, st] = model->forward(ids.narrow(1, 0, cut));
    auto [b, st2] = model->forward(ids.narrow(1, cut, 61 - cut), st);
    XLSTM_EXPECT_CLOSE(torch::cat({a, b}, 1), full, 2e-5);
  }
}

TEST(Models, ParameterCountsOfTheParityModels) {
  // spec §8.1: E=64, 2 blocks, one head, vocab 3, context 256.
  auto parity = [](const std::string& slstm_at, const std::string& slstm_block) {
    return from_yaml<xLSTMLMModelConfig>(
        "num_blocks: 2\nembedding_dim: 64\ncontext_length: 256\nvocab_size: 3\n"
        "mlstm_block: {mlstm: {num_heads: 1}}\nslstm_block: " + slstm_block + "\nslstm_at: " + slstm_at + "\n");
  };
  auto count = [](const xLSTMLMModelConfig& cfg) {
    xLSTMLMModel m(cfg);
    int64_t n = 0;
    for (const auto& p : m->parameters()) n += p.numel();
    return n;
  };
  EXPECT_EQ(count(parity("[0, 1]", "{slstm: {num_heads: 1}}")), 116672);  // xLSTM[0:1]
  EXPECT_EQ(count(parity("[]", "{}")), 56132);                             // xLSTM[1:0]
  EXPECT_EQ(count(parity("[1]", "{slstm: {num_heads: 1}}")), 86402);       // xLSTM[1:1]
}

TEST(Models, ReadmeConfigParameterCountAndKeys) {
  auto cfg = from_yaml_file<xLSTMLMModelConfig>(testing::source_path("configs/xlstm_lm_readme.yaml"));
  xLSTMLMModel model(cfg);
  int64_t n = 0;
  for (const auto& p : model->parameters()) n += p.numel();
  EXPECT_EQ(n, 13642672);  // spec §5
  auto params = model->named_parameters();
  EXPECT_EQ(params["xlstm_block_stack.blocks.1.xlstm.slstm_cell._recurrent_kernel_"].sizes(),
            torch::IntArrayRef({4, 32, 128}));
  EXPECT_EQ(params["xlstm_block_stack.blocks.0.xlstm.q_proj.weight"].sizes(), torch::IntArrayRef({64, 4, 4}));
  EXPECT_EQ(params["xlstm_block_stack.blocks.0.xlstm.mlstm_cell.igate.weight"].sizes(), torch::IntArrayRef({4, 768}));
  EXPECT_EQ(params["xlstm_block_stack.blocks.1.ffn.proj_up.weight"].sizes(), torch::IntArrayRef({384, 128}));
}

TEST(Models, ResetParametersFollowsTheReference) {
  torch::manual_seed(0);
  auto cfg = from_yaml_file<xLSTMLMModelConfig>(testing::source_path("configs/xlstm_lm_readme.yaml"));
  xLSTMLMModel model(cfg);
  model->reset_parameters();
  auto p = model->named_parameters();
  const std::string b0 = "xlstm_block_stack.blocks.0.xlstm.";
  EXPECT_TRUE(torch::equal(p[b0 + "mlstm_cell.fgate.bias"], torch::linspace(3.0, 6.0, 4)));
  EXPECT_EQ(p[b0 + "mlstm_cell.fgate.weight"].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(p[b0 + "mlstm_cell.igate.weight"].abs().sum().item<double>(), 0.0);
  // igate.bias ~ N(0, 0.1^2): 4 values per reset, so pool 500 resets of the cell.
  auto cell = model->xlstm_block_stack->block(0)->mlstm_layer->mlstm_cell;
  std::vector<torch::Tensor> draws;
  for (int r = 0; r < 500; ++r) {
    cell->reset_parameters();
    draws.push_back(cell->igate->bias.clone());
  }
  EXPECT_NEAR(torch::cat(draws).std().item<double>(), 0.1, 0.01);
  EXPECT_TRUE(torch::equal(p[b0 + "learnable_skip"], torch::ones({256})));
  EXPECT_EQ(p["xlstm_block_stack.blocks.0.xlstm_norm.weight"].abs().sum().item<double>(), 0.0);
  const double small = std::sqrt(2.0 / (5 * 128)), wang = 2.0 / 7 / std::sqrt(128.0);
  EXPECT_NEAR(p[b0 + "proj_up.weight"].std().item<double>(), small, small * 0.05);
  EXPECT_NEAR(p[b0 + "proj_down.weight"].std().item<double>(), wang, wang * 0.05);
  EXPECT_NEAR(p["token_embedding.weight"].std().item<double>(), small, small * 0.01);
  EXPECT_NEAR(p["lm_head.weight"].std().item<double>(), small, small * 0.01);
  // sLSTM block 1 of 7: the forget-gate slot of the powerlaw bias starts at 5 and ends at -7 (spec §4).
  auto bias = p["xlstm_block_stack.blocks.1.xlstm.slstm_cell._bias_"].view({4, 4, 32});
  EXPECT_NEAR(bias[0][1][0].item<double>(), 5.0, 1e-5);
  EXPECT_NEAR(bias[2][1][31].item<double>(), -7.0, 1e-5);
  EXPECT_EQ(bias.select(1, 0).abs().sum().item<double>(), 0.0);
}

TEST(Models, TiedWeightsShareOneTensorAndBothKeysExist) {
  auto cfg = fixture_config<xLSTMLMModelConfig>("lm_model");
  cfg.tie_weights = true;
  xLSTMLMModel model(cfg);
  auto p = model->named_parameters();
  EXPECT_TRUE(p.contains("lm_head.weight"));
  EXPECT_TRUE(p.contains("token_embedding.weight"));
  EXPECT_TRUE(p["lm_head.weight"].is_same(p["token_embedding.weight"]));
  auto groups = weight_decay_param_groups(*model, false);
  int64_t total = 0;
  for (const auto& t : groups.decay) total += t.numel();
  for (const auto& t : groups.no_decay) total += t.numel();
  int64_t unique = 0;
  for (const auto& t : model->parameters()) unique += t.numel();
  EXPECT_EQ(total, unique - p["lm_head.weight"].numel());  // the tied tensor counted once
}

TEST(Models, WeightDecayGroupsFollowTheReference) {
  auto cfg = fixture_config<xLSTMLMModelConfig>("lm_model");
  xLSTMLMModel model(cfg);
  auto groups = weight_decay_param_groups(*model, false);
  auto p = model->named_parameters();
  auto in = [](const std::vector<torch::Tensor>& g, const torch::Tensor& t) {
    for (const auto& x : g) if (x.is_same(t)) return true;
    return false;
  };
  EXPECT_TRUE(in(groups.no_decay, p["token_embedding.weight"]));
  EXPECT_TRUE(in(groups.decay, p["lm_head.weight"]));
  EXPECT_TRUE(in(groups.decay, p["xlstm_block_stack.blocks.0.xlstm.proj_up.weight"]));
  EXPECT_TRUE(in(groups.no_decay, p["xlstm_block_stack.blocks.0.xlstm_norm.weight"]));
  EXPECT_TRUE(in(groups.no_decay, p["xlstm_block_stack.blocks.1.xlstm.slstm_cell._recurrent_kernel_"]));
  EXPECT_TRUE(in(groups.no_decay, p["xlstm_block_stack.blocks.0.xlstm.learnable_skip"]));
  auto with_emb = weight_decay_param_groups(*model, true);
  EXPECT_TRUE(in(with_emb.decay, p["token_embedding.weight"]));
}

TEST(Models, Bfloat16WeightsRunWithFp32States) {
  torch::manual_seed(0);
  auto cfg = fixture_config<xLSTMLMModelConfig>("lm_model");
  xLSTMLMModel model(cfg);
  load_fixture_weights(model, "lm_model");
  auto io = load_fixture("lm_model", "io.safetensors");
  model->to(torch::kBFloat16);
  torch::NoGradGuard no_grad;
  auto [logits, state] = model->forward(io.at("input_ids"));
  EXPECT_EQ(logits.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(state[0].mlstm.cell.C.scalar_type(), torch::kFloat32);
  EXPECT_EQ(state[1].slstm.slstm.scalar_type(), torch::kFloat32);
  XLSTM_EXPECT_CLOSE(logits, io.at("logits"), 3e-2);
}

TEST(Models, BadInputsGiveClearErrors) {
  auto cfg = fixture_config<xLSTMLMModelConfig>("lm_model");
  xLSTMLMModel model(cfg);
  auto expect_error = [](const std::function<void()>& fn, const std::string& fragment) {
    try {
      fn();
      ADD_FAILURE() << "no error, expected one mentioning '" << fragment << "'";
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_error([&] { model->forward(torch::randint(0, 50, {2})); }, "(B, S)");
  expect_error([&] { model->forward(torch::full({1, 3}, 50, torch::kLong)); }, "[0, 50)");
  expect_error([&] { model->forward(torch::full({1, 3}, -1, torch::kLong)); }, "[0, 50)");
  expect_error([&] { model->forward(torch::zeros({1, 3})); }, "integers");
  auto [logits, state] = model->forward(torch::zeros({2, 3}, torch::kLong));
  expect_error([&] { model->forward(torch::zeros({3, 1}, torch::kLong), state); }, "");
  state.pop_back();
  expect_error([&] { model->forward(torch::zeros({2, 1}, torch::kLong), state); }, "block entries");
  expect_error([&] { model->xlstm_block_stack->forward(torch::zeros({2, 3, 7})); }, "(B, S, 64)");
}

}  // namespace
}  // namespace xlstm
