// Shared components: init functions, activations, causal conv, head-wise linear, norms, feed-forward.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <iostream>
#include <stdexcept>

#include "testing.h"
#include "xlstm/components/activation.h"
#include "xlstm/components/causal_conv1d.h"
#include "xlstm/components/feedforward.h"
#include "xlstm/components/init.h"
#include "xlstm/components/linear_headwise.h"
#include "xlstm/components/norms.h"
#include "xlstm/io/state_dict.h"

namespace {

using namespace xlstm;
using torch::indexing::Slice;

torch::Tensor randn64(torch::IntArrayRef shape) { return torch::randn(shape, torch::kFloat64); }

// ------------------------------------------------------------------------------------------ init

TEST(Components, SmallInitAndWangInitStatistics) {
  torch::manual_seed(0);
  auto p = torch::empty({512, 512}, torch::requires_grad());  // works on parameters that need grad
  small_init_(p, 64);
  EXPECT_NEAR(p.std().item<double>(), std::sqrt(2.0 / (5.0 * 64)), 0.01 * std::sqrt(2.0 / 320));
  EXPECT_NEAR(p.mean().item<double>(), 0.0, 1e-3);
  EXPECT_TRUE(p.requires_grad());

  wang_init_(p, 64, 7);
  EXPECT_NEAR(p.std().item<double>(), 2.0 / 7.0 / 8.0, 0.01 * 2.0 / 56.0);
  EXPECT_NEAR(p.mean().item<double>(), 0.0, 1e-3);
}

TEST(Components, BiasLinspaceInit) {
  auto p = torch::empty({5}, torch::requires_grad());
  bias_linspace_init_(p, 3.0, 6.0);
  const auto expected = torch::tensor({3.0f, 3.75f, 4.5f, 5.25f, 6.0f});
  EXPECT_TRUE(torch::equal(p.detach(), expected)) << p;
  auto q = torch::empty({2, 3});
  EXPECT_THROW(bias_linspace_init_(q, 0.0, 1.0), c10::Error);
}

// ------------------------------------------------------------------------------------------ activations

TEST(Components, ActivationsMatchFormulas) {
  const auto x = torch::linspace(-4.0, 4.0, 81, torch::kFloat64);
  const auto sig = 1.0 / (1.0 + torch::exp(-x));
  const double lambda = 1.0507009873554804934193349852946, alpha = 1.6732632423543772848170429916717;
  XLSTM_EXPECT_CLOSE(apply_activation("gelu", x), 0.5 * x * (1.0 + torch::erf(x / std::sqrt(2.0))), 1e-14);
  XLSTM_EXPECT_CLOSE(apply_activation("relu", x), torch::where(x > 0, x, torch::zeros_like(x)), 0.0);
  XLSTM_EXPECT_CLOSE(apply_activation("relu^2", x), torch::where(x > 0, x * x, torch::zeros_like(x)), 0.0);
  XLSTM_EXPECT_CLOSE(apply_activation("sigmoid", x), sig, 1e-14);
  XLSTM_EXPECT_CLOSE(apply_activation("swish", x), x * sig, 1e-14);
  XLSTM_EXPECT_CLOSE(apply_activation("selu", x),
                     lambda * torch::where(x > 0, x, alpha * (torch::exp(x) - 1.0)), 1e-14);
}

TEST(Components, UnknownActivationNamesIt) {
  try {
    apply_activation("tanhh", torch::zeros({2}));
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'tanhh'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(is_activation("tanhh"));
  EXPECT_TRUE(is_activation("relu^2"));
}

TEST(Components, SoftCap) {
  const auto x = torch::linspace(-100.0, 100.0, 41, torch::kFloat64);
  XLSTM_EXPECT_CLOSE(soft_cap(x, 15.0), 15.0 * torch::tanh(x / 15.0), 1e-15);
  EXPECT_LT(soft_cap(x, 15.0).abs().max().item<double>(), 15.0);
  EXPECT_TRUE(torch::equal(soft_cap(x, std::nullopt), x));
}

// ------------------------------------------------------------------------------------------ causal conv

// y_t[d] = bias[d] + Σ_j w[d, 0, j] · xp[t + j][d] over the window xp = [state, x], in float64.
torch::Tensor naive_causal_conv(const torch::Tensor& x, const torch::Tensor& state, const torch::Tensor& w,
                                const torch::Tensor& b) {
  const auto xp = torch::cat({state, x}, 1).to(torch::kFloat64);
  const auto w64 = w.to(torch::kFloat64), b64 = b.to(torch::kFloat64);
  const int64_t B = x.size(0), S = x.size(1), D = x.size(2), K = w.size(2);
  auto y = torch::zeros({B, S, D}, torch::kFloat64);
  auto ya = y.accessor<double, 3>();
  auto xa = xp.accessor<double, 3>();
  auto wa = w64.accessor<double, 3>();
  auto ba = b64.accessor<double, 1>();
  for (int64_t bi = 0; bi < B; ++bi)
    for (int64_t t = 0; t < S; ++t)
      for (int64_t d = 0; d < D; ++d) {
        double acc = ba[d];
        for (int64_t j = 0; j < K; ++j) acc += wa[d][0][j] * xa[bi][t + j][d];
        ya[bi][t][d] = acc;
      }
  return y;
}

TEST(Components, CausalConvMatchesNaiveLoop) {
  torch::manual_seed(1);
  CausalConv1d conv(6, 4);
  const auto x = torch::randn({2, 9, 6});
  auto [y, state] = conv(x);
  XLSTM_EXPECT_CLOSE(y, naive_causal_conv(x, torch::zeros({2, 3, 6}), conv->conv->weight, conv->conv->bias), 1e-6);
  EXPECT_TRUE(torch::equal(state, x.index({Slice(), Slice(6, 9)})));

  const auto s0 = torch::randn({2, 3, 6});
  auto [y2, state2] = conv(x, s0);
  XLSTM_EXPECT_CLOSE(y2, naive_causal_conv(x, s0, conv->conv->weight, conv->conv->bias), 1e-6);
  EXPECT_TRUE(torch::equal(state2, x.index({Slice(), Slice(6, 9)})));
}

TEST(Components, CausalConvShortSequenceKeepsOlderState) {
  torch::manual_seed(2);
  CausalConv1d conv(3, 4);
  const auto s0 = torch::randn({1, 3, 3});
  const auto x = torch::randn({1, 1, 3});
  auto [y, state] = conv(x, s0);
  EXPECT_TRUE(torch::equal(state, torch::cat({s0.index({Slice(), Slice(1, 3)}), x}, 1)));
  XLSTM_EXPECT_CLOSE(y, naive_causal_conv(x, s0, conv->conv->weight, conv->conv->bias), 1e-6);
}

TEST(Components, CausalConvStepAndSegmentsMatchForward) {
  torch::manual_seed(3);
  CausalConv1d conv(5, 4);
  const auto x = torch::randn({2, 7, 5});
  const auto s0 = torch::randn({2, 3, 5});
  auto [y_full, s_full] = conv(x, s0);

  torch::Tensor state = s0;
  std::vector<torch::Tensor> ys;
  for (int64_t t = 0; t < 7; ++t) {
    auto [y_t, s_t] = conv->step(x.index({Slice(), Slice(t, t + 1)}), state);
    ys.push_back(y_t);
    state = s_t;
  }
  XLSTM_EXPECT_CLOSE(torch::cat(ys, 1), y_full, 1e-6);
  EXPECT_TRUE(torch::equal(state, s_full));

  auto [y_a, s_a] = conv(x.index({Slice(), Slice(0, 3)}), s0);
  auto [y_b, s_b] = conv(x.index({Slice(), Slice(3, 7)}), s_a);
  XLSTM_EXPECT_CLOSE(torch::cat({y_a, y_b}, 1), y_full, 1e-6);
  EXPECT_TRUE(torch::equal(s_b, s_full));
}

TEST(Components, CausalConvKernelOneAndZero) {
  torch::manual_seed(4);
  CausalConv1d k1(4, 1);
  const auto x = torch::randn({2, 3, 4});
  auto [y1, s1] = k1(x);
  const auto w = k1->conv->weight.view({1, 1, 4});
  XLSTM_EXPECT_CLOSE(y1, x * w + k1->conv->bias, 1e-6);
  EXPECT_EQ(s1.sizes(), (std::vector<int64_t>{2, 0, 4}));

  CausalConv1d k0(4, 0);
  EXPECT_TRUE(k0->parameters().empty());
  auto [y0, s0] = k0(x);
  EXPECT_TRUE(torch::equal(y0, x));
  EXPECT_FALSE(s0.defined());
  auto [y0s, s0s] = k0->step(x.index({Slice(), Slice(0, 1)}));
  EXPECT_TRUE(torch::equal(y0s, x.index({Slice(), Slice(0, 1)})));
}

TEST(Components, CausalConvParametersInitAndErrors) {
  torch::manual_seed(5);
  CausalConv1d conv(4096, 4);
  const auto params = conv->named_parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params["conv.weight"].sizes(), (std::vector<int64_t>{4096, 1, 4}));
  EXPECT_EQ(params["conv.bias"].sizes(), (std::vector<int64_t>{4096}));
  // U(-1/2, 1/2): max |w| below 1/2, std 1/(2·sqrt(3)).
  EXPECT_LE(conv->conv->weight.abs().max().item<double>(), 0.5);
  EXPECT_NEAR(conv->conv->weight.std().item<double>(), 0.5 / std::sqrt(3.0), 0.01);
  EXPECT_LE(conv->conv->bias.abs().max().item<double>(), 0.5);
  EXPECT_NEAR(conv->conv->bias.std().item<double>(), 0.5 / std::sqrt(3.0), 0.02);
  EXPECT_FALSE(CausalConv1d(4, 4, /*bias=*/false)->conv->bias.defined());

  CausalConv1d small(3, 4);
  EXPECT_THROW(small(torch::randn({2, 5, 4})), c10::Error);                        // width
  EXPECT_THROW(small(torch::randn({2, 5, 3}), torch::randn({2, 4, 3})), c10::Error);  // state length
  EXPECT_THROW(small(torch::randn({2, 5, 3}), torch::randn({1, 3, 3})), c10::Error);  // state batch
}

// ------------------------------------------------------------------------------------------ head-wise linear

TEST(Components, LinearHeadwiseEqualsBlockDiagonalDense) {
  torch::manual_seed(6);
  for (double expand : {1.0, 2.0}) {
    LinearHeadwiseExpand lin(12, 3, expand, /*bias=*/true);
    {
      torch::NoGradGuard g;
      lin->bias.normal_();
    }
    const int64_t O = lin->out_features(), Op = O / 3, Ip = 4;
    ASSERT_EQ(lin->weight.sizes(), (std::vector<int64_t>{3, Op, Ip}));
    auto dense = torch::zeros({O, 12});
    for (int64_t h = 0; h < 3; ++h)
      for (int64_t o = 0; o < Op; ++o)
        for (int64_t d = 0; d < Ip; ++d) dense[h * Op + o][h * Ip + d] = lin->weight[h][o][d];
    const auto x = torch::randn({2, 5, 12});
    XLSTM_EXPECT_CLOSE(lin(x), torch::matmul(x, dense.t()) + lin->bias, 1e-6);
  }
}

TEST(Components, LinearHeadwiseInitAndErrors) {
  torch::manual_seed(7);
  LinearHeadwiseExpand lin(1024, 4);
  EXPECT_NEAR(lin->weight.std().item<double>(), std::sqrt(2.0 / (5.0 * 256)), 0.01 * std::sqrt(2.0 / 1280));
  EXPECT_TRUE(torch::equal(lin->bias, torch::zeros({1024})));
  EXPECT_FALSE(LinearHeadwiseExpand(8, 2, 1.0, false)->bias.defined());
  EXPECT_EQ(LinearHeadwiseExpand(8, 2, 1.0, false)->named_parameters().size(), 1u);
  for (auto heads : {0, 9, 3}) {
    try {
      LinearHeadwiseExpand bad(8, heads);
      FAIL() << "no exception for num_heads " << heads;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("num_heads=" + std::to_string(heads)), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(lin(torch::randn({2, 1000})), c10::Error);
}

// ------------------------------------------------------------------------------------------ norms

// (x - mean) / sqrt(var + eps) over the last dim, biased variance, float64.
torch::Tensor normalize64(const torch::Tensor& x, double eps) {
  const auto x64 = x.to(torch::kFloat64);
  const auto mean = x64.mean(-1, true);
  const auto var = (x64 - mean).square().mean(-1, true);
  return (x64 - mean) / torch::sqrt(var + eps);
}

TEST(Components, LayerNormUsesWeightOffset) {
  torch::manual_seed(8);
  LayerNorm ln(16, /*weight=*/true, /*bias=*/true);
  EXPECT_TRUE(torch::equal(ln->weight, torch::zeros({16})));
  const auto x = torch::randn({3, 5, 16}) * 3 + 1;
  XLSTM_EXPECT_CLOSE(ln(x), normalize64(x, 1e-5), 1e-6);  // scale 1 at init
  {
    torch::NoGradGuard g;
    ln->weight.normal_();
    ln->bias.normal_();
  }
  XLSTM_EXPECT_CLOSE(ln(x), normalize64(x, 1e-5) * (1.0 + ln->weight) + ln->bias, 1e-6);
  EXPECT_TRUE(LayerNorm(16, false, false)->parameters().empty());
}

TEST(Components, MultiHeadLayerNormIsPerHead) {
  torch::manual_seed(9);
  MultiHeadLayerNorm norm(12);  // 3 heads of 4
  {
    torch::NoGradGuard g;
    norm->weight.normal_();
  }
  EXPECT_FALSE(norm->bias.defined());
  const auto x = torch::randn({2, 3, 5, 4}) * 2 - 1;  // (B, NH, S, DH)
  const auto expected = (normalize64(x, 1e-5).transpose(1, 2).reshape({2, 5, 12})) * (1.0 + norm->weight);
  XLSTM_EXPECT_CLOSE(norm(x), expected, 1e-6);
  EXPECT_THROW(norm(torch::randn({2, 3, 5, 5})), c10::Error);
}

TEST(Components, RMSNormMatchesFormula) {
  torch::manual_seed(10);
  RMSNorm norm(16, 1e-6, true, true);
  EXPECT_TRUE(torch::equal(norm->weight, torch::ones({16})));
  {
    torch::NoGradGuard g;
    norm->weight.normal_();
    norm->bias.normal_();
  }
  const auto x = torch::randn({3, 4, 16}) * 2;
  const auto x64 = x.to(torch::kFloat64);
  const auto expected = x64 / torch::sqrt(x64.square().mean(-1, true) + 1e-6) * norm->weight + norm->bias;
  XLSTM_EXPECT_CLOSE(norm(x), expected, 1e-6);
}

TEST(Components, LargeMultiHeadLayerNormMatchesFormula) {
  torch::manual_seed(11);
  large::MultiHeadLayerNorm norm(3, 4);
  EXPECT_TRUE(torch::equal(norm->weight, torch::ones({12})));
  {
    torch::NoGradGuard g;
    norm->weight.normal_();
  }
  const auto x = torch::randn({2, 5, 3, 4}) * 2 + 1;  // (B, S, NH, DH)
  XLSTM_EXPECT_CLOSE(norm(x), normalize64(x, 1e-6).reshape({2, 5, 12}) * norm->weight, 1e-6);
  EXPECT_THROW(norm(torch::randn({2, 5, 4, 3})), c10::Error);
}

TEST(Components, NormsKeepBf16WithFp32Reductions) {
  torch::manual_seed(12);
  // Large offset: a bf16 reduction would lose the variance; the fp32 one keeps it.
  const auto x32 = torch::randn({4, 256}) + 30.0;
  const auto x = x32.to(torch::kBFloat16);
  const auto xr = x.to(torch::kFloat64);

  large::MultiHeadLayerNorm mh(4, 64);
  mh->to(torch::kBFloat16);
  const auto y_mh = mh(x.view({1, 4, 4, 64}));
  EXPECT_EQ(y_mh.scalar_type(), torch::kBFloat16);
  XLSTM_EXPECT_CLOSE(y_mh.view({4, 256}), normalize64(xr.view({4, 4, 64}), 1e-6).view({4, 256}), 1e-2);

  RMSNorm rms(256);
  rms->to(torch::kBFloat16);
  const auto y_rms = rms(x);
  EXPECT_EQ(y_rms.scalar_type(), torch::kBFloat16);
  XLSTM_EXPECT_CLOSE(y_rms, xr / torch::sqrt(xr.square().mean(-1, true) + 1e-6), 1e-2);

  // NeurIPS norms with fp32 parameters on bf16 input.
  LayerNorm ln(256);
  const auto y_ln = ln(x);
  EXPECT_EQ(y_ln.scalar_type(), torch::kBFloat16);
  XLSTM_EXPECT_CLOSE(y_ln, normalize64(xr, 1e-5), 1e-2);
  MultiHeadLayerNorm gn(256);
  const auto y_gn = gn(x.view({4, 4, 1, 64}));
  EXPECT_EQ(y_gn.scalar_type(), torch::kBFloat16);
  XLSTM_EXPECT_CLOSE(y_gn.view({4, 4, 64}), normalize64(xr.view({4, 4, 64}), 1e-5), 1e-2);
}

// ------------------------------------------------------------------------------------------ feed-forward

TEST(Components, GatedFeedForwardMatchesFixture) {
  const auto cfg = from_yaml_file<FeedForwardConfig>(xlstm::testing::fixture_path("feedforward", "config.yaml"));
  ASSERT_EQ(cfg._proj_up_dim, 64);
  GatedFeedForward ffn(cfg);
  io::load_state_dict(*ffn, xlstm::testing::fixture_path("feedforward", "weights.safetensors"));
  ffn->eval();
  const auto io = xlstm::testing::load_fixture("feedforward", "io.safetensors");
  const auto y = ffn(io.at("x"));
  std::cout << "[feedforward fixture] rel error " << xlstm::testing::rel_error(y, io.at("y")) << "\n";
  XLSTM_EXPECT_CLOSE(y, io.at("y"), 1e-5);
}

TEST(Components, GatedFeedForwardFormulaAndInit) {
  torch::manual_seed(13);
  FeedForwardConfig cfg;
  cfg.embedding_dim = 256;
  cfg.act_fn = "relu";
  cfg.bias = true;
  cfg._num_blocks = 7;
  cfg.post_init();  // F = ceil(1.3 · 256 / 64) · 64 = 384
  GatedFeedForward ffn(cfg);
  EXPECT_EQ(ffn->proj_up->weight.sizes(), (std::vector<int64_t>{768, 256}));
  EXPECT_EQ(ffn->proj_down->weight.sizes(), (std::vector<int64_t>{256, 384}));
  EXPECT_NEAR(ffn->proj_up->weight.std().item<double>(), std::sqrt(2.0 / (5.0 * 256)), 0.02 * std::sqrt(2.0 / 1280));
  EXPECT_NEAR(ffn->proj_down->weight.std().item<double>(), 2.0 / 7.0 / 16.0, 0.02 * 2.0 / 112.0);
  EXPECT_TRUE(torch::equal(ffn->proj_up->bias, torch::zeros({768})));
  EXPECT_TRUE(torch::equal(ffn->proj_down->bias, torch::zeros({256})));

  {
    torch::NoGradGuard g;
    ffn->proj_up->bias.normal_();
    ffn->proj_down->bias.normal_();
  }
  const auto x = torch::randn({2, 3, 256});
  const auto h = torch::matmul(x, ffn->proj_up->weight.t()) + ffn->proj_up->bias;
  const auto gate = h.index({"...", Slice(0, 384)}), up = h.index({"...", Slice(384, 768)});
  const auto expected = torch::matmul(torch::relu(gate) * up, ffn->proj_down->weight.t()) + ffn->proj_down->bias;
  XLSTM_EXPECT_CLOSE(ffn(x), expected, 1e-5);

  cfg.act_fn = "tanhh";
  EXPECT_THROW(GatedFeedForward{cfg}, std::invalid_argument);
}

TEST(Components, LargeFeedForwardSingleAndFusedAgree) {
  torch::manual_seed(14);
  large::FeedForward single(16, 48, /*use_bias=*/false, /*fused=*/false);
  large::FeedForward fused(16, 48, false, true);
  std::vector<std::string> single_keys, fused_keys;
  for (const auto& p : single->named_parameters()) single_keys.push_back(p.key());
  for (const auto& p : fused->named_parameters()) fused_keys.push_back(p.key());
  EXPECT_EQ(single_keys, (std::vector<std::string>{"proj_up_gate.weight", "proj_up.weight", "proj_down.weight"}));
  EXPECT_EQ(fused_keys, (std::vector<std::string>{"proj_up_gate_z.weight", "proj_down.weight"}));

  const auto x = torch::randn({2, 5, 16});
  const auto& wg = single->proj_up_gate->weight;
  const auto& wu = single->proj_up->weight;
  const auto& wd = single->proj_down->weight;
  XLSTM_EXPECT_CLOSE(single(x), torch::matmul(torch::silu(torch::matmul(x, wg.t())) * torch::matmul(x, wu.t()), wd.t()),
                     1e-6);
  {
    torch::NoGradGuard g;
    fused->proj_up_gate_z->weight.copy_(torch::cat({wg, wu}, 0));
    fused->proj_down->weight.copy_(wd);
  }
  XLSTM_EXPECT_CLOSE(fused(x), single(x), 1e-6);

  large::FeedForward with_bias(16, 48, true, false);
  EXPECT_EQ(with_bias->named_parameters().size(), 6u);
}

}  // namespace
