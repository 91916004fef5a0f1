// sLSTM: the reference recurrence, the cell (layouts, init), the layer (fixture, states, step, bf16,
// bad input) and the vanilla-checkpoint conversion.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "testing.h"
#include "xlstm/io/safetensors.h"
#include "xlstm/io/state_dict.h"
#include "xlstm/slstm/cell.h"
#include "xlstm/slstm/checkpoint_layout.h"
#include "xlstm/slstm/layer.h"
#include "xlstm/slstm/slstm_reference.h"

namespace {

using namespace xlstm;
using torch::indexing::Slice;
namespace xt = xlstm::testing;

sLSTMLayerConfig layer_config(int64_t embedding_dim, int64_t num_heads, int64_t kernel_size) {
  sLSTMLayerConfig cfg;
  cfg.embedding_dim = embedding_dim;
  cfg.num_heads = num_heads;
  cfg.conv1d_kernel_size = kernel_size;
  cfg.backend = "vanilla";
  cfg.recurrent_weight_init = "standard";
  cfg.post_init();
  return cfg;
}

// The fixture's layer: config.yaml (E 32, NH 2, K 4, vanilla, powerlaw, recurrent standard) and weights.
sLSTMLayer fixture_layer() {
  sLSTMLayer layer(from_yaml_file<sLSTMLayerConfig>(xt::fixture_path("slstm_layer", "config.yaml")));
  io::load_state_dict(*layer, xt::fixture_path("slstm_layer", "weights.safetensors"));
  layer->eval();
  return layer;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no exception>";
}

// ------------------------------------------------------------------------------------------ layer vs reference

TEST(Slstm, LayerMatchesFixture) {
  auto layer = fixture_layer();
  const auto io = xt::load_fixture("slstm_layer", "io.safetensors");
  auto [y, state] = layer(io.at("x"));
  std::cout << "[slstm_layer fixture] rel errors: y " << xt::rel_error(y, io.at("y")) << ", slstm_state "
            << xt::rel_error(state.slstm, io.at("slstm_state")) << ", conv_state "
            << xt::rel_error(state.conv, io.at("conv_state")) << "\n";
  XLSTM_EXPECT_CLOSE(y, io.at("y"), 1e-5);
  XLSTM_EXPECT_CLOSE(state.slstm, io.at("slstm_state"), 1e-5);
  XLSTM_EXPECT_CLOSE(state.conv, io.at("conv_state"), 1e-5);
}

// Independent float64 scalar implementation of the cell on the external "BSGNH" input layout, with the
// per-element n == 0 rule. x (B, S, 4H), R (NH, DH, 4DH), b (4H), s0 (4, B, H). Returns y (B, S, H), state.
std::pair<torch::Tensor, torch::Tensor> scalar_slstm(const torch::Tensor& x, const torch::Tensor& R,
                                                     const torch::Tensor& b, const torch::Tensor& s0) {
  const int64_t B = x.size(0), S = x.size(1), NH = R.size(0), DH = R.size(1), H = NH * DH;
  const auto x64 = x.to(torch::kFloat64), R64 = R.to(torch::kFloat64), b64 = b.to(torch::kFloat64);
  auto st = s0.to(torch::kFloat64).clone();
  auto y = torch::zeros({B, S, H}, torch::kFloat64);
  auto xa = x64.accessor<double, 3>();
  auto Ra = R64.accessor<double, 3>();
  auto ba = b64.accessor<double, 1>();
  auto sa = st.accessor<double, 3>();
  auto ya = y.accessor<double, 3>();
  std::vector<double> raw(4 * H);
  for (int64_t bi = 0; bi < B; ++bi)
    for (int64_t t = 0; t < S; ++t) {
      for (int64_t h = 0; h < NH; ++h)
        for (int64_t g = 0; g < 4; ++g)
          for (int64_t j = 0; j < DH; ++j) {
            double acc = xa[bi][t][g * H + h * DH + j] + ba[h * 4 * DH + g * DH + j];
            for (int64_t d = 0; d < DH; ++d) acc += sa[0][bi][h * DH + d] * Ra[h][d][g * DH + j];
            raw[g * H + h * DH + j] = acc;
          }
      for (int64_t u = 0; u < H; ++u) {
        const double ir = raw[u], fr = raw[H + u], zr = raw[2 * H + u], orr = raw[3 * H + u];
        const double c = sa[1][bi][u], n = sa[2][bi][u], m = sa[3][bi][u];
        const double lfm = m - std::log1p(std::exp(-fr));
        const double m_new = n == 0.0 ? ir : std::max(ir, lfm);
        const double ig = std::exp(ir - m_new), fg = std::exp(lfm - m_new), og = 1.0 / (1.0 + std::exp(-orr));
        const double c_new = fg * c + ig * std::tanh(zr), n_new = fg * n + ig;
        sa[0][bi][u] = og * c_new / n_new;
        sa[1][bi][u] = c_new;
        sa[2][bi][u] = n_new;
        sa[3][bi][u] = m_new;
        ya[bi][t][u] = sa[0][bi][u];
      }
    }
  return {y, st};
}

// A random state with n > 0 except for every third unit, which has n == 0 and c == 0 (a fresh unit)
// and a large m, so that max(ī, lfm) would differ from the per-element rule's m = ī.
torch::Tensor random_state(int64_t B, int64_t H) {
  auto s = torch::randn({4, B, H});
  s[2] = torch::rand({B, H}) + 0.5;
  const auto fresh = (torch::arange(H) % 3 == 0).expand({B, H});
  s[1].masked_fill_(fresh, 0.0);
  s[2].masked_fill_(fresh, 0.0);
  s[3].masked_fill_(fresh, 4.0);
  return s;
}

TEST(Slstm, CellMatchesScalarLoopWithRandomInitialState) {
  torch::manual_seed(20);
  auto cfg = layer_config(12, 3, 4);
  cfg.bias_init = "standard";
  sLSTMCell cell(cfg);
  const auto x = torch::randn({2, 6, 48});
  const auto s0 = random_state(2, 12);
  auto [y, state] = cell(x, s0);
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, 3, 6, 4}));  // (B, NH, S, DH)
  auto [y_ref, state_ref] = scalar_slstm(x, cell->recurrent_kernel, cell->bias, s0);
  XLSTM_EXPECT_CLOSE(y.transpose(1, 2).reshape({2, 6, 12}), y_ref, 1e-5);
  XLSTM_EXPECT_CLOSE(state, state_ref, 1e-5);
  EXPECT_EQ(state.scalar_type(), torch::kFloat32);

  // One step: the m of the units with n == 0 shows the per-element rule (later steps forget it).
  const auto x1 = x.index({Slice(), Slice(0, 1)});
  auto [y1, state1] = cell(x1, s0);
  auto [y1_ref, state1_ref] = scalar_slstm(x1, cell->recurrent_kernel, cell->bias, s0);
  XLSTM_EXPECT_CLOSE(state1, state1_ref, 1e-5);

  // Undefined state = zeros.
  auto [y0, s0_out] = cell(x);
  auto [y0_ref, s0_ref] = scalar_slstm(x, cell->recurrent_kernel, cell->bias, torch::zeros({4, 2, 12}));
  XLSTM_EXPECT_CLOSE(y0.transpose(1, 2).reshape({2, 6, 12}), y0_ref, 1e-5);
  XLSTM_EXPECT_CLOSE(s0_out, s0_ref, 1e-5);
}

TEST(Slstm, CellInputAndOutputShapes) {
  torch::manual_seed(26);
  auto cfg = layer_config(12, 3, 4);
  sLSTMCell cell(cfg);
  const auto x = torch::randn({2, 5, 48});  // (B, S, 4H)
  const auto s0 = random_state(2, 12);
  auto [y, state] = cell(x, s0);  // (B, NH, S, DH)
  const auto y_bsh = y.transpose(1, 2).reshape({2, 5, 12});
  for (const char* in : {"BSGNH", "SBGNH"})
    for (const char* out : {"BNSH", "SBH", "BSH", "SBNH"}) {
      cfg.input_shape = in;
      cfg.output_shape = out;
      sLSTMCell other(cfg);
      other->recurrent_kernel.detach().copy_(cell->recurrent_kernel);
      other->bias.detach().copy_(cell->bias);
      auto [y2, state2] = other(std::string(in) == "SBGNH" ? x.transpose(0, 1) : x, s0);
      const std::string o = out;
      const auto expected = o == "BNSH"  ? y
                            : o == "SBH" ? y_bsh.transpose(0, 1)
                            : o == "BSH" ? y_bsh
                                         : y_bsh.view({2, 5, 3, 4}).transpose(0, 1);
      EXPECT_TRUE(torch::equal(y2, expected)) << in << " -> " << out;
      EXPECT_TRUE(torch::equal(state2, state)) << in << " -> " << out;
    }
}

TEST(Slstm, ReferenceGradientsMatchFiniteDifferences) {
  torch::manual_seed(21);
  const int64_t B = 1, S = 3, NH = 2, DH = 2, H = NH * DH;
  auto s0 = random_state(B, H).to(torch::kFloat64);
  s0[2] = torch::rand({B, H}, torch::kFloat64) + 0.5;  // n away from the n == 0 branch point
  const auto wy = torch::randn({B, S, NH, DH}, torch::kFloat64), ws = torch::randn({4, B, H}, torch::kFloat64);
  auto f = [&](const std::vector<torch::Tensor>& in) {
    auto [y, state] = slstm_forward_reference(in[0], in[1], in[2], in[3]);
    return (y * wy).sum() + (state * ws).sum();
  };
  xt::expect_gradients_match_finite_differences(
      f, {torch::randn({B, S, NH, 4, DH}, torch::kFloat64), 0.5 * torch::randn({NH, DH, 4 * DH}, torch::kFloat64),
          torch::randn({4 * H}, torch::kFloat64), s0});
}

TEST(Slstm, LayerGradientsMatchFiniteDifferences) {
  torch::manual_seed(22);
  sLSTMLayer layer(layer_config(4, 2, 2));
  layer->to(torch::kFloat64);
  const auto w = torch::randn({1, 3, 4}, torch::kFloat64);
  auto f = [&](const std::vector<torch::Tensor>& in) {
    auto [y, state] = layer(in[0]);
    return (y * w).sum();
  };
  xt::expect_gradients_match_finite_differences(f, {torch::randn({1, 3, 4}, torch::kFloat64)});
}

// ------------------------------------------------------------------------------------------ states

TEST(Slstm, SegmentsWithCarriedStateMatchOneForward) {
  torch::manual_seed(23);
  for (int64_t kernel : {4, 0}) {
    sLSTMLayer layer(layer_config(16, 4, kernel));
    layer->eval();
    const auto x = torch::randn({2, 11, 16});
    sLSTMLayerState s0;
    s0.slstm = random_state(2, 16);
    if (kernel > 0) s0.conv = torch::randn({2, kernel - 1, 16});
    auto [y, state] = layer(x, s0);
    auto [y_a, state_a] = layer(x.index({Slice(), Slice(0, 5)}), s0);
    auto [y_b, state_b] = layer(x.index({Slice(), Slice(5, 11)}), state_a);
    XLSTM_EXPECT_CLOSE(torch::cat({y_a, y_b}, 1), y, 1e-6);
    XLSTM_EXPECT_CLOSE(state_b.slstm, state.slstm, 1e-6);
    if (kernel > 0) {
      EXPECT_TRUE(torch::equal(state_b.conv, state.conv));
      EXPECT_TRUE(torch::equal(state.conv, x.index({Slice(), Slice(8, 11)})));
    } else {
      EXPECT_FALSE(state.conv.defined());
    }
  }
}

TEST(Slstm, StepByStepMatchesForward) {
  auto layer = fixture_layer();
  const auto x = xt::load_fixture("slstm_layer", "io.safetensors").at("x");
  auto [y, state] = layer(x);
  sLSTMLayerState carried;
  std::vector<torch::Tensor> ys;
  for (int64_t t = 0; t < x.size(1); ++t) {
    auto [y_t, s_t] = layer->step(x.index({Slice(), Slice(t, t + 1)}), carried);
    ys.push_back(y_t);
    carried = s_t;
  }
  XLSTM_EXPECT_CLOSE(torch::cat(ys, 1), y, 1e-6);
  XLSTM_EXPECT_CLOSE(carried.slstm, state.slstm, 1e-6);
  EXPECT_TRUE(torch::equal(carried.conv, state.conv));
}

// ------------------------------------------------------------------------------------------ init

TEST(Slstm, PowerlawBiasInitValues) {
  // README config, sLSTM at block 1 of 7: E = 128, NH = 4, DH = 32, r = 1/6 (xlstm-spec.md §4).
  auto cfg = layer_config(128, 4, 4);
  cfg._block_idx = 1;
  cfg._num_blocks = 7;
  cfg.recurrent_weight_init = "zeros";  // the reference default
  sLSTMCell cell(cfg);
  const auto b = cell->bias.view({4, 4, 32});
  const std::vector<double> starts{5.000, 2.965, 2.088, 1.410, 0.834}, ends{-6.17, -6.39, -6.59, -6.80, -7.00};
  for (int64_t h = 0; h < 4; ++h) {
    for (int64_t j = 0; j < 5; ++j) {
      // The spec's values are rounded (1.410 for 1.4095): 1e-3.
      EXPECT_NEAR(b[h][1][j].item<double>(), starts[j], 1e-3) << "head " << h << " unit " << j;
      EXPECT_NEAR(b[h][1][27 + j].item<double>(), ends[j], 5e-3) << "head " << h << " unit " << 27 + j;
    }
    for (int64_t g : {0, 2, 3}) EXPECT_TRUE(torch::equal(b[h][g], torch::zeros({32}))) << "gate " << g;
  }
  EXPECT_TRUE(torch::equal(cell->recurrent_kernel, torch::zeros({4, 32, 128})));

  // One block: r = 0, exponent 0.3; the last block: r = 1, exponent 1.6.
  for (auto [idx, num, exponent] : {std::tuple<int64_t, int64_t, double>{0, 1, 0.3}, {6, 7, 1.6}}) {
    cfg._block_idx = idx;
    cfg._num_blocks = num;
    sLSTMCell c(cfg);
    const auto f = c->bias.view({4, 4, 32})[2][1];
    EXPECT_FLOAT_EQ(f[0].item<float>(), 5.0f);
    EXPECT_FLOAT_EQ(f[31].item<float>(), -7.0f);
    EXPECT_NEAR(f[1].item<double>(), 5.0 - 12.0 * std::pow(1.0 / 31.0, exponent), 1e-5);
  }
}

TEST(Slstm, OtherInitVariants) {
  torch::manual_seed(24);
  auto cfg = layer_config(256, 4, 4);  // DH = 64, 1/sqrt(H) = 1/16
  cfg.bias_init = "small_init";
  sLSTMCell small(cfg);
  const auto b = small->bias.view({4, 4, 64});
  for (int64_t h = 0; h < 4; ++h) {
    XLSTM_EXPECT_CLOSE(b[h][1], torch::linspace(3.0, 6.0, 64), 1e-7);
    for (int64_t g : {0, 2, 3}) EXPECT_TRUE(torch::equal(b[h][g], torch::zeros({64})));
  }
  // recurrent "standard": U(-1/16, 1/16)
  EXPECT_LE(small->recurrent_kernel.abs().max().item<double>(), 1.0 / 16);
  EXPECT_NEAR(small->recurrent_kernel.std().item<double>(), 1.0 / 16 / std::sqrt(3.0), 2e-3);

  cfg.bias_init = "standard";
  sLSTMCell standard(cfg);
  EXPECT_LE(standard->bias.abs().max().item<double>(), 1.0 / 16);
  EXPECT_NEAR(standard->bias.std().item<double>(), 1.0 / 16 / std::sqrt(3.0), 4e-3);
  cfg.bias_init = "zeros";
  EXPECT_TRUE(torch::equal(sLSTMCell(cfg)->bias, torch::zeros({1024})));

  cfg.bias_init = "powerlaw";
  EXPECT_NE(error_of([&] { sLSTMCell c(cfg); }).find("bias_init: 'powerlaw'"), std::string::npos);
  cfg.bias_init = "zeros";
  cfg.recurrent_weight_init = "ones";
  EXPECT_NE(error_of([&] { sLSTMCell c(cfg); }).find("recurrent_weight_init: 'ones'"), std::string::npos);
}

TEST(Slstm, LayerInitAndParameterNames) {
  torch::manual_seed(25);
  // README config's sLSTM (xlstm-spec.md §5): E = 128, NH = 4, K = 4.
  sLSTMLayer layer(layer_config(128, 4, 4));
  std::vector<std::pair<std::string, std::vector<int64_t>>> names;
  for (const auto& p : layer->named_parameters()) names.emplace_back(p.key(), p.value().sizes().vec());
  const std::vector<std::pair<std::string, std::vector<int64_t>>> expected{
      {"conv1d.conv.weight", {128, 1, 4}},          {"conv1d.conv.bias", {128}},
      {"fgate.weight", {4, 32, 32}},                {"igate.weight", {4, 32, 32}},
      {"zgate.weight", {4, 32, 32}},                {"ogate.weight", {4, 32, 32}},
      {"slstm_cell._recurrent_kernel_", {4, 32, 128}}, {"slstm_cell._bias_", {512}},
      {"group_norm.weight", {128}}};
  EXPECT_EQ(names, expected);
  // Gate projections small_init(E): std sqrt(2 / (5·128)) = 0.0559 (4096 samples each).
  for (auto* g : {&layer->fgate, &layer->igate, &layer->zgate, &layer->ogate})
    EXPECT_NEAR((*g)->weight.std().item<double>(), std::sqrt(2.0 / 640.0), 0.004);
  EXPECT_TRUE(torch::equal(layer->group_norm->weight, torch::zeros({128})));

  sLSTMLayer no_conv(layer_config(128, 4, 0));
  EXPECT_EQ(no_conv->named_parameters().size(), 7u);
  auto cfg = layer_config(128, 4, 4);
  cfg.group_norm_weight = false;
  EXPECT_EQ(sLSTMLayer(cfg)->named_parameters().size(), 8u);
}

// ------------------------------------------------------------------------------------------ dtypes, errors

TEST(Slstm, Bf16WeightsStayCloseToFp32) {
  auto layer = fixture_layer();
  const auto x = xt::load_fixture("slstm_layer", "io.safetensors").at("x");
  auto [y32, s32] = layer(x);
  layer->to(torch::kBFloat16);
  auto [y16, s16] = layer(x.to(torch::kBFloat16));
  EXPECT_EQ(y16.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(s16.slstm.scalar_type(), torch::kFloat32);
  EXPECT_EQ(s16.conv.scalar_type(), torch::kFloat32);
  std::cout << "[slstm bf16] rel error of y vs fp32: " << xt::rel_error(y16, y32) << "\n";
  XLSTM_EXPECT_CLOSE(y16, y32, 2e-2);
  XLSTM_EXPECT_CLOSE(s16.slstm, s32.slstm, 2e-2);
}

TEST(Slstm, BadInputErrorsNameShapes) {
  sLSTMLayer layer(layer_config(32, 2, 4));
  const auto x = torch::randn({2, 5, 32});
  auto call = [&](const torch::Tensor& in, const sLSTMLayerState& s) { return error_of([&] { layer(in, s); }); };
  EXPECT_NE(call(torch::randn({2, 32}), {}).find("expected input (B, S, 32)"), std::string::npos);
  EXPECT_NE(call(torch::randn({2, 5, 31}), {}).find("got [2, 5, 31]"), std::string::npos);
  sLSTMLayerState bad_batch;
  bad_batch.slstm = torch::zeros({4, 3, 32});
  EXPECT_NE(call(x, bad_batch).find("expected slstm state (4, 2, 32), got [4, 3, 32]"), std::string::npos);
  sLSTMLayerState bad_width;
  bad_width.slstm = torch::zeros({4, 2, 16});
  EXPECT_NE(call(x, bad_width).find("got [4, 2, 16]"), std::string::npos);
  sLSTMLayerState bad_conv;
  bad_conv.conv = torch::zeros({2, 4, 32});
  EXPECT_NE(call(x, bad_conv).find("expected conv state (2, 3, 32), got [2, 4, 32]"), std::string::npos);
  EXPECT_NE(error_of([&] { layer->step(x); }).find("expected input (B, 1, 32)"), std::string::npos);

  auto cfg = layer_config(32, 3, 4);
  EXPECT_NE(error_of([&] { sLSTMLayer l(cfg); }).find("num_heads: 3 does not divide 32"), std::string::npos);
  cfg = layer_config(32, 2, 4);
  cfg.output_shape = "BSH";
  EXPECT_NE(error_of([&] { sLSTMLayer l(cfg); }).find("output_shape: the sLSTM layer needs"), std::string::npos);
  cfg = layer_config(32, 2, 4);
  cfg.function = "lstm";
  cfg.post_init();
  EXPECT_NE(error_of([&] { sLSTMLayer l(cfg); }).find("function: 'lstm' is not supported"), std::string::npos);
}

// ------------------------------------------------------------------------------------------ checkpoints

// Vanilla layout from the CUDA one, element by element (xlstm-spec.md §2.5 table):
// R_v[h, g·DH + j, d] = R_c[h, d, g·DH + j];  b_v[g·H + h·DH + j] = b_c[h·4DH + g·DH + j].
std::pair<torch::Tensor, torch::Tensor> to_vanilla(const torch::Tensor& R, const torch::Tensor& b) {
  const int64_t NH = R.size(0), DH = R.size(1), H = NH * DH;
  auto Rv = torch::empty({NH, 4 * DH, DH});
  auto bv = torch::empty({4 * H});
  for (int64_t h = 0; h < NH; ++h)
    for (int64_t g = 0; g < 4; ++g)
      for (int64_t j = 0; j < DH; ++j) {
        bv[g * H + h * DH + j] = b[h * 4 * DH + g * DH + j];
        for (int64_t d = 0; d < DH; ++d) Rv[h][g * DH + j][d] = R[h][d][g * DH + j];
      }
  return {Rv, bv};
}

TEST(Slstm, VanillaCheckpointIsConverted) {
  const auto cuda_sd = xt::load_fixture("slstm_layer", "weights.safetensors");
  const auto& R = cuda_sd.at("slstm_cell._recurrent_kernel_");
  const auto& b = cuda_sd.at("slstm_cell._bias_");
  auto [Rv, bv] = to_vanilla(R, b);
  ASSERT_EQ(Rv.sizes(), (std::vector<int64_t>{2, 64, 16}));

  // Under a block prefix, next to a cell already in the CUDA layout.
  std::map<std::string, torch::Tensor> sd{{"blocks.1.xlstm.slstm_cell._recurrent_kernel_", Rv},
                                          {"blocks.1.xlstm.slstm_cell._bias_", bv},
                                          {"blocks.2.xlstm.slstm_cell._recurrent_kernel_", R},
                                          {"blocks.2.xlstm.slstm_cell._bias_", b}};
  EXPECT_EQ(convert_vanilla_slstm_params(sd), 1);
  EXPECT_TRUE(torch::equal(sd.at("blocks.1.xlstm.slstm_cell._recurrent_kernel_"), R));
  EXPECT_TRUE(torch::equal(sd.at("blocks.1.xlstm.slstm_cell._bias_"), b));
  EXPECT_TRUE(torch::equal(sd.at("blocks.2.xlstm.slstm_cell._recurrent_kernel_"), R));
  EXPECT_TRUE(torch::equal(sd.at("blocks.2.xlstm.slstm_cell._bias_"), b));
  EXPECT_EQ(convert_vanilla_slstm_params(sd), 0);

  // A whole vanilla layer state dict is converted when loaded and reproduces the fixture.
  auto layer_sd = cuda_sd;
  layer_sd["slstm_cell._recurrent_kernel_"] = Rv;
  layer_sd["slstm_cell._bias_"] = bv;
  sLSTMLayer layer(layer_config(32, 2, 4));
  io::load_state_dict(*layer, layer_sd);
  EXPECT_TRUE(torch::equal(layer_sd.at("slstm_cell._bias_"), bv));  // the caller's map is unchanged
  const auto io = xt::load_fixture("slstm_layer", "io.safetensors");
  XLSTM_EXPECT_CLOSE(std::get<0>(layer(io.at("x"))), io.at("y"), 1e-5);

  std::map<std::string, torch::Tensor> no_bias{{"slstm_cell._recurrent_kernel_", Rv}};
  EXPECT_THROW(convert_vanilla_slstm_params(no_bias), CheckpointError);
  std::map<std::string, torch::Tensor> short_bias{{"slstm_cell._recurrent_kernel_", Rv},
                                                  {"slstm_cell._bias_", torch::zeros({64})}};
  EXPECT_THROW(convert_vanilla_slstm_params(short_bias), CheckpointError);
}

}  // namespace
