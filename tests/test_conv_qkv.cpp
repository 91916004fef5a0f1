// xlstm::mlstm_conv_qkv (the mLSTM layer's causal convolution, SiLU and q/k/v projections in one op).
// CPU: the op equals the modules it replaces (CausalConv1d, SiLU, LinearHeadwiseExpand), its backward
// equals finite differences (fp64), and bad arguments name the argument. CUDA (skipped without a
// device): the kernels against the fp64 ATen implementation on the same inputs over S, B, widths,
// biases, strided inputs and gradients, and three dtypes, from NaN-poisoned memory; bit-reproducible
// parameter gradients; an unsupported kernel size falls back. (CudaNormSkipGate.LayerOnCuda... runs the
// whole mLSTM layer, both fused ops, against the CPU layer.)
#include <sstream>

#include "gradcheck.h"
#include "testing.h"
#include "xlstm/components/causal_conv1d.h"
#include "xlstm/components/linear_headwise.h"
#include "xlstm/ops.h"

namespace xlstm {
namespace {

struct Params {
  torch::Tensor conv_w, conv_b, wq, wk, wv, bq, bk, bv;
  std::vector<torch::Tensor> all() const { return {conv_w, conv_b, wq, wk, wv, bq, bk, bv}; }
};

Params random_params(int64_t D, int64_t K, bool bias, torch::Device device = torch::kCPU) {
  const auto o = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  const int64_t NB = D / 4;
  Params p{torch::randn({D, 1, K}, o) * 0.5, torch::randn({D}, o) * 0.2, torch::randn({NB, 4, 4}, o) * 0.5,
           torch::randn({NB, 4, 4}, o) * 0.5, torch::randn({NB, 4, 4}, o) * 0.5};
  if (bias) p.bq = torch::randn({D}, o) * 0.1, p.bk = torch::randn({D}, o) * 0.1, p.bv = torch::randn({D}, o) * 0.1;
  return p;
}

ops::OptTensor opt(const torch::Tensor& t) { return t.defined() ? ops::OptTensor(t) : std::nullopt; }

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor> op(const torch::Tensor& x, const Params& p) {
  return ops::mlstm_conv_qkv(x, p.conv_w, opt(p.conv_b), p.wq, p.wk, p.wv, opt(p.bq), opt(p.bk), opt(p.bv));
}

TEST(ConvQkv, EqualsTheModulesItReplaces) {
  torch::manual_seed(0);
  for (const int64_t S : {1, 2, 9}) {
    for (const bool bias : {false, true}) {
      const int64_t D = 16, K = 4;
      const auto x = torch::randn({2, S, D}, torch::kFloat64);
      const auto p = random_params(D, K, bias);
      CausalConv1d conv(D, K);
      LinearHeadwiseExpand q_proj(D, D / 4, 1.0, bias), k_proj(D, D / 4, 1.0, bias), v_proj(D, D / 4, 1.0, bias);
      for (auto* m : std::vector<torch::nn::Module*>{conv.get(), q_proj.get(), k_proj.get(), v_proj.get()})
        m->to(torch::kFloat64);
      {
        torch::NoGradGuard g;
        conv->conv->weight.copy_(p.conv_w);
        conv->conv->bias.copy_(p.conv_b);
        q_proj->weight.copy_(p.wq), k_proj->weight.copy_(p.wk), v_proj->weight.copy_(p.wv);
        if (bias) q_proj->bias.copy_(p.bq), k_proj->bias.copy_(p.bk), v_proj->bias.copy_(p.bv);
      }
      const auto c_ref = torch::silu(std::get<0>(conv->forward(x)));
      const auto [c, q, k, v] = op(x, p);
      XLSTM_EXPECT_CLOSE(c, c_ref, 1e-12);
      XLSTM_EXPECT_CLOSE(q, q_proj->forward(c_ref), 1e-12);
      XLSTM_EXPECT_CLOSE(k, k_proj->forward(c_ref), 1e-12);
      XLSTM_EXPECT_CLOSE(v, v_proj->forward(x), 1e-12);
      XLSTM_EXPECT_CLOSE(conv->next_state(x), std::get<1>(conv->forward(x)), 0.0);
    }
  }
}

TEST(ConvQkv, BackwardMatchesFiniteDifferences) {
  torch::manual_seed(1);
  const int64_t D = 8;
  const auto p = random_params(D, 4, /*bias=*/true);
  const auto x = torch::randn({2, 5, D}, torch::kFloat64);
  const auto w = torch::randn({4, 2, 5, D}, torch::kFloat64);  // loss weights of c, q, k, v
  std::vector<torch::Tensor> inputs{x};
  for (const auto& t : p.all()) inputs.push_back(t);
  testing::expect_gradients_match_finite_differences(
      [&](const std::vector<torch::Tensor>& a) {
        const auto [c, q, k, v] = ops::mlstm_conv_qkv(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]);
        return (c * w[0]).sum() + (q * w[1]).sum() + (k * w[2]).sum() + (v * w[3]).sum();
      },
      inputs);
}

TEST(ConvQkv, BadArgumentsNameTheArgument) {
  const auto p = random_params(8, 4, false);
  const auto x = torch::randn({2, 3, 8}, torch::kFloat64);
  const auto message = testing::error_message;
  const auto has = [](const std::string& text, const char* part) { return text.find(part) != std::string::npos; };
  EXPECT_TRUE(has(message([&] { op(x.flatten(0, 1), p); }), "x must"));
  EXPECT_TRUE(has(message([&] {
                    ops::mlstm_conv_qkv(x, p.conv_w.squeeze(1), std::nullopt, p.wq, p.wk, p.wv);
                  }),
                  "conv_weight must"));
  EXPECT_TRUE(has(message([&] { ops::mlstm_conv_qkv(x, p.conv_w, std::nullopt, p.wq, p.wk.narrow(0, 0, 1), p.wv); }),
                  "wk must"));
  EXPECT_TRUE(has(message([&] { ops::mlstm_conv_qkv(x, p.conv_w, x[0][0].narrow(0, 0, 3), p.wq, p.wk, p.wv); }), "conv_bias must"));
  const auto [c, q, k, v] = op(x, p);
  EXPECT_TRUE(has(message([&] {
                    ops::mlstm_conv_qkv_bw(std::nullopt, q, k.narrow(1, 0, 2), v, x, p.conv_w, std::nullopt, p.wq,
                                           p.wk, p.wv, std::nullopt, std::nullopt, std::nullopt);
                  }),
                  "dk must be like x"));
}

// ------------------------------------------------------------------------------------------ CUDA

class CudaConvQkv : public xlstm::testing::CudaTest {};

// Outputs and the gradients of Σ_i sum(out_i * w_i) (dc left out when `no_dc`) for x and the parameters
// converted to dt / fp32 (or both fp64 for the reference) on `device`; x a column half of a wider tensor.
std::vector<torch::Tensor> run(const torch::Tensor& x64, const Params& p64, const torch::Tensor& w, bool no_dc,
                               torch::Dtype dt, torch::Dtype pdt, torch::Device device) {
  const int64_t D = x64.size(2);
  const auto wide = torch::cat({x64, x64}, 2).to(device, dt);
  const auto x = wide.narrow(2, D, D).detach().requires_grad_(true);
  std::vector<torch::Tensor> leaves{x};
  Params p;
  std::vector<torch::Tensor*> slots{&p.conv_w, &p.conv_b, &p.wq, &p.wk, &p.wv, &p.bq, &p.bk, &p.bv};
  const auto src = p64.all();
  for (size_t i = 0; i < slots.size(); ++i) {
    if (!src[i].defined()) continue;
    *slots[i] = src[i].to(device, pdt).requires_grad_(true);
    leaves.push_back(*slots[i]);
  }
  const auto [c, q, k, v] = op(x, p);
  const auto wd = w.to(device);
  auto loss = (q.to(torch::kFloat64) * wd[1]).sum() + (k.to(torch::kFloat64) * wd[2]).sum() +
              (v.to(torch::kFloat64) * wd[3]).sum();
  if (!no_dc) loss = loss + (c.to(torch::kFloat64) * wd[0]).sum();
  auto out = torch::autograd::grad({loss}, leaves);
  out.insert(out.begin(), {c, q, k, v});
  return out;
}

TEST_F(CudaConvQkv, KernelsMatchTheReference) {
  torch::manual_seed(3);
  struct Case {
    int64_t B, S, D;
    bool bias, no_dc;
  };
  const char* names[] = {"c", "q", "k", "v", "dx", "dconv_w", "dconv_b", "dwq", "dwk", "dwv", "dbq", "dbk", "dbv"};
  for (const auto& cs : {Case{1, 1, 16, false, false}, Case{2, 3, 64, true, false}, Case{3, 100, 1536, false, false},
                         Case{2, 1000, 256, true, true}, Case{1, 2049, 516, false, false}}) {
    for (const auto dt : {torch::kFloat32, torch::kBFloat16, torch::kFloat16}) {
      std::ostringstream name;
      name << "B" << cs.B << " S" << cs.S << " D" << cs.D << (cs.bias ? " bias" : "") << (cs.no_dc ? " no dc " : " ")
           << c10::toString(dt);
      SCOPED_TRACE(name.str());
      // The reference on the inputs as the kernels see them (x rounded to dt), in fp64 on the CPU.
      const auto x = torch::randn({cs.B, cs.S, cs.D}).to(dt).to(torch::kFloat64);
      const auto p = random_params(cs.D, 4, cs.bias);
      const auto w = torch::randn({4, cs.B, cs.S, cs.D}, torch::kFloat64);
      const auto want = run(x, p, w, cs.no_dc, torch::kFloat64, torch::kFloat64, torch::kCPU);
      testing::poison_cuda_allocator(64 << 20);
      const auto got = run(x, p, w, cs.no_dc, dt, torch::kFloat32, torch::kCUDA);
      ASSERT_EQ(got.size(), want.size());
      const double tol = dt == torch::kFloat32 ? 1e-5 : 1e-2;
      for (size_t i = 0; i < got.size(); ++i) {
        SCOPED_TRACE(names[i]);
        XLSTM_EXPECT_CLOSE(got[i], want[i], tol);
      }
    }
  }
}

TEST_F(CudaConvQkv, ParameterGradientsAreBitReproducible) {
  torch::manual_seed(4);
  const auto x = torch::randn({4, 512, 1536}).to(torch::kBFloat16).to(torch::kFloat64);
  const auto p = random_params(1536, 4, false);
  const auto w = torch::randn({4, 4, 512, 1536}, torch::kFloat64);
  const auto first = run(x, p, w, false, torch::kBFloat16, torch::kFloat32, torch::kCUDA);
  for (int rep = 0; rep < 3; ++rep) {
    const auto again = run(x, p, w, false, torch::kBFloat16, torch::kFloat32, torch::kCUDA);
    for (size_t i = 4; i < first.size(); ++i) EXPECT_TRUE(torch::equal(again[i], first[i])) << "gradient " << i;
  }
}

TEST_F(CudaConvQkv, UnsupportedKernelSizeFallsBack) {
  const auto x = torch::randn({2, 7, 32}, torch::kFloat64);
  const auto p = random_params(32, 3, true);
  const auto w = torch::randn({4, 2, 7, 32}, torch::kFloat64);
  const auto want = run(x, p, w, false, torch::kFloat64, torch::kFloat64, torch::kCPU);
  const auto got = run(x, p, w, false, torch::kFloat32, torch::kFloat32, torch::kCUDA);
  for (size_t i = 0; i < got.size(); ++i) XLSTM_EXPECT_CLOSE(got[i], want[i], 1e-5);
}

}  // namespace
}  // namespace xlstm
