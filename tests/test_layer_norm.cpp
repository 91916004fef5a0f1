// xlstm::layer_norm (the blocks' pre-norm). CPU: the op equals ATen's layer norm as LayerNorm applies
// it (scale 1 + weight), its backward formulas equal finite differences (fp64), gradients through it
// equal those through ATen's, and bad arguments name the argument. CUDA (skipped without a device):
// the kernels against the fp64 ATen implementation over E 4-2048 and the dtype pairs, from
// NaN-poisoned memory; bit-reproducible weight gradients; LayerNorm under autocast returns the
// autocast dtype only where it feeds a Linear, with the values and gradients of ATen's path.
#include <ATen/autocast_mode.h>

#include <sstream>

#include "gradcheck.h"
#include "testing.h"
#include "xlstm/autocast_scope.h"
#include "xlstm/components/norms.h"
#include "xlstm/ops.h"

namespace xlstm {
namespace {

struct Inputs {
  torch::Tensor x, w, b, gy;  // gy: the loss weight of y
};

Inputs random_inputs(c10::IntArrayRef rows, int64_t E, torch::Device device) {
  const auto o = torch::TensorOptions().device(device).dtype(torch::kFloat64);
  std::vector<int64_t> shape(rows.begin(), rows.end());
  shape.push_back(E);
  Inputs in;
  in.x = torch::randn(shape, o) * 2 + 0.7;
  in.w = torch::randn({E}, o) * 0.3;
  in.b = torch::randn({E}, o) * 0.2;
  in.gy = torch::randn(shape, o);
  return in;
}

TEST(LayerNormOp, EqualsAtenLayerNormWithTheOffsetScale) {
  torch::manual_seed(0);
  for (const int64_t E : {1, 7, 64}) {
    const auto in = random_inputs({3, 5}, E, torch::kCPU);
    for (const bool bias : {false, true}) {
      const auto b = bias ? ops::OptTensor(in.b) : std::nullopt;
      const auto [y, mean, rstd] = ops::layer_norm(in.x, in.w, b, 1.0, 1e-5);
      const auto want = torch::layer_norm(in.x, {E}, 1 + in.w, bias ? in.b : torch::Tensor(), 1e-5);
      XLSTM_EXPECT_CLOSE(y, want, 1e-12);
      EXPECT_EQ(mean.sizes(), (c10::IntArrayRef{3, 5}));
      XLSTM_EXPECT_CLOSE(rstd, (in.x.var(-1, /*unbiased=*/false) + 1e-5).rsqrt(), 1e-12);
    }
  }
  // Without a weight, and an fp32 input written in bf16.
  const auto in = random_inputs({4}, 32, torch::kCPU);
  const auto x = in.x.to(torch::kFloat32);
  XLSTM_EXPECT_CLOSE(std::get<0>(ops::layer_norm(in.x, std::nullopt, std::nullopt, 0.0, 1e-5)),
                     torch::layer_norm(in.x, {32}), 1e-12);
  const auto low = std::get<0>(ops::layer_norm(x, in.w.to(torch::kFloat32), std::nullopt, 1.0, 1e-5, torch::kBFloat16));
  EXPECT_EQ(low.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(low, torch::layer_norm(x, {32}, 1 + in.w.to(torch::kFloat32)).to(torch::kBFloat16)));
}

TEST(LayerNormOp, BackwardMatchesFiniteDifferences) {
  torch::manual_seed(1);
  const auto in = random_inputs({2, 3}, 6, torch::kCPU);
  testing::expect_gradients_match_finite_differences(
      [&](const std::vector<torch::Tensor>& t) {
        return (std::get<0>(ops::layer_norm(t[0], t[1], t[2], 1.0, 1e-5)) * in.gy).sum();
      },
      {in.x, in.w, in.b});
}

TEST(LayerNormOp, GradientsEqualThoseThroughAten) {
  torch::manual_seed(2);
  const auto in = random_inputs({3, 9}, 48, torch::kCPU);
  const auto gy = in.gy.to(torch::kFloat32);
  for (const bool bias : {false, true}) {
    SCOPED_TRACE(bias ? "bias" : "no bias");
    auto leaves = [&] {
      std::vector<torch::Tensor> t{in.x, in.w};
      if (bias) t.push_back(in.b);
      for (auto& v : t) v = v.to(torch::kFloat32).detach().requires_grad_(true);
      return t;
    };
    auto a = leaves(), b = leaves();
    const auto ya = std::get<0>(ops::layer_norm(a[0], a[1], bias ? ops::OptTensor(a[2]) : std::nullopt, 1.0, 1e-5));
    const auto yb = torch::layer_norm(b[0], {48}, 1 + b[1], bias ? b[2] : torch::Tensor(), 1e-5);
    const auto ga = torch::autograd::grad({(ya * gy).sum()}, a), gb = torch::autograd::grad({(yb * gy).sum()}, b);
    for (size_t i = 0; i < ga.size(); ++i) {
      SCOPED_TRACE("input " + std::to_string(i));
      XLSTM_EXPECT_CLOSE(ga[i], gb[i], 1e-5);
    }
  }
}

TEST(LayerNormOp, BadArgumentsNameTheArgument) {
  const auto in = random_inputs({2}, 8, torch::kCPU);
  const auto x = in.x.to(torch::kFloat32), w = in.w.to(torch::kFloat32);
  const auto message = testing::error_message;
  EXPECT_NE(message([&] { ops::layer_norm(x.to(torch::kLong), w, std::nullopt, 1.0, 1e-5); }).find("x must"),
            std::string::npos);
  EXPECT_NE(message([&] { ops::layer_norm(x, w.narrow(0, 0, 3), std::nullopt, 1.0, 1e-5); }).find("weight must"),
            std::string::npos);
  EXPECT_NE(message([&] { ops::layer_norm(x, w, w.narrow(0, 0, 3), 1.0, 1e-5); }).find("bias must"),
            std::string::npos);
  EXPECT_NE(message([&] { ops::layer_norm(x.to(torch::kBFloat16), w, std::nullopt, 1.0, 1e-5, torch::kFloat32); })
                .find("out_dtype must"),
            std::string::npos);
  const auto [y, mean, rstd] = ops::layer_norm(x, w, std::nullopt, 1.0, 1e-5);
  EXPECT_NE(message([&] { ops::layer_norm_bw(y, x, w, std::nullopt, 1.0, mean.narrow(0, 0, 1), rstd); })
                .find("mean must"),
            std::string::npos);
  EXPECT_NE(message([&] { ops::layer_norm_bw(y.narrow(0, 0, 1), x, w, std::nullopt, 1.0, mean, rstd); })
                .find("dy must"),
            std::string::npos);
}

// ------------------------------------------------------------------------------------------ CUDA

class CudaLayerNorm : public xlstm::testing::CudaTest {};

struct Result {
  torch::Tensor y, dx, dw, db;
};

// y = layer_norm(x in xt, out in yt) and the gradients of sum(y * gy).
Result run(const Inputs& in, torch::Dtype xt, torch::Dtype yt, bool bias, torch::Device device) {
  const auto leaf = [&](const torch::Tensor& t, torch::Dtype d) { return t.detach().to(device, d).requires_grad_(true); };
  auto x = leaf(in.x, xt), w = leaf(in.w, torch::kFloat32), b = leaf(in.b, torch::kFloat32);
  const auto y = std::get<0>(ops::layer_norm(x, w, bias ? ops::OptTensor(b) : std::nullopt, 1.0, 1e-5, yt));
  EXPECT_EQ(y.scalar_type(), yt);
  const auto loss = (y.to(torch::kFloat64) * in.gy.to(device)).sum();
  if (!bias) {
    const auto g = torch::autograd::grad({loss}, {x, w});
    return {y, g[0], g[1], torch::Tensor()};
  }
  const auto g = torch::autograd::grad({loss}, {x, w, b});
  return {y, g[0], g[1], g[2]};
}

TEST_F(CudaLayerNorm, KernelsMatchTheReference) {
  torch::manual_seed(3);
  struct Case {
    int64_t rows, E;
  };
  struct Pair {
    torch::Dtype x, y;
  };
  for (const auto& k : {Case{1, 4}, Case{37, 64}, Case{300, 200}, Case{2049, 768}, Case{65, 1024}, Case{17, 2048},
                        Case{5, 1540}}) {
    for (const auto& d : {Pair{torch::kFloat32, torch::kFloat32}, Pair{torch::kFloat32, torch::kBFloat16},
                          Pair{torch::kFloat32, torch::kFloat16}, Pair{torch::kBFloat16, torch::kBFloat16},
                          Pair{torch::kFloat16, torch::kFloat16}}) {
      for (const bool bias : {false, true}) {
        std::ostringstream name;
        name << "rows " << k.rows << " E " << k.E << " " << c10::toString(d.x) << " -> " << c10::toString(d.y)
             << (bias ? " bias" : "");
        SCOPED_TRACE(name.str());
        // The reference on the inputs as the kernels see them (rounded to x's dtype), in fp64 on the CPU,
        // with the parameters rounded as the op applies them.
        auto in = random_inputs({k.rows}, k.E, torch::kCPU);
        in.x = in.x.to(d.x).to(torch::kFloat64);
        const auto ref = run(in, torch::kFloat64, torch::kFloat64, bias, torch::kCPU);
        testing::poison_cuda_allocator(64 << 20);
        const auto got = run(in, d.x, d.y, bias, torch::kCUDA);
        const double tol = d.x == torch::kFloat32 && d.y == torch::kFloat32 ? 1e-5 : 2e-2;
        XLSTM_EXPECT_CLOSE(got.y, ref.y, tol);
        XLSTM_EXPECT_CLOSE(got.dx, ref.dx, tol);
        XLSTM_EXPECT_CLOSE(got.dw, ref.dw, tol);
        if (bias) XLSTM_EXPECT_CLOSE(got.db, ref.db, tol);
      }
    }
  }
}

TEST_F(CudaLayerNorm, UnsupportedWidthFallsBack) {
  const auto in = random_inputs({3}, 2050, torch::kCPU);
  const auto ref = run(in, torch::kFloat64, torch::kFloat64, true, torch::kCPU);
  const auto got = run(in, torch::kFloat32, torch::kFloat32, true, torch::kCUDA);
  XLSTM_EXPECT_CLOSE(got.y, ref.y, 1e-5);
  XLSTM_EXPECT_CLOSE(got.dx, ref.dx, 1e-5);
}

TEST_F(CudaLayerNorm, WeightGradientsAreBitReproducible) {
  torch::manual_seed(4);
  const auto in = random_inputs({16, 512}, 768, torch::kCPU);
  const auto first = run(in, torch::kFloat32, torch::kBFloat16, false, torch::kCUDA);
  for (int rep = 0; rep < 5; ++rep) {
    const auto again = run(in, torch::kFloat32, torch::kBFloat16, false, torch::kCUDA);
    EXPECT_TRUE(torch::equal(again.dw, first.dw));
    EXPECT_TRUE(torch::equal(again.dx, first.dx));
  }
}

// Under autocast the module returns what ATen's path returns, except that a norm feeding a Linear
// returns it already in the autocast dtype; values and gradients as ATen's layer norm then the cast.
TEST_F(CudaLayerNorm, ModuleUnderAutocast) {
  torch::manual_seed(5);
  const auto in = random_inputs({4, 100}, 768, torch::kCUDA);
  for (const bool feeds_linear : {false, true}) {
    SCOPED_TRACE(feeds_linear ? "feeds a Linear" : "plain");
    LayerNorm norm(768, true, false);
    norm->to(torch::kCUDA);
    norm->feeds_linear(feeds_linear);
    {
      torch::NoGradGuard g;
      norm->weight.copy_(in.w);
    }
    const auto x = in.x.to(torch::kFloat32).requires_grad_(true), xa = x.detach().clone().requires_grad_(true);
    torch::Tensor y, want;
    {
      AutocastScope autocast(torch::kCUDA, true, torch::kBFloat16);
      y = norm->forward(x);
      want = torch::layer_norm(xa, {768}, 1 + norm->weight, {}, 1e-5);
    }
    EXPECT_EQ(y.scalar_type(), feeds_linear ? torch::kBFloat16 : torch::kFloat32);
    EXPECT_EQ(want.scalar_type(), torch::kFloat32);
    if (feeds_linear) want = want.to(torch::kBFloat16);
    XLSTM_EXPECT_CLOSE(y, want, feeds_linear ? 1e-2 : 1e-5);
    const auto gy = in.gy.to(torch::kFloat32);
    const auto gw = torch::autograd::grad({(y.to(torch::kFloat32) * gy).sum()}, {x, norm->weight});
    const auto gwant = torch::autograd::grad({(want.to(torch::kFloat32) * gy).sum()}, {xa, norm->weight});
    XLSTM_EXPECT_CLOSE(gw[0], gwant[0], 1e-4);
    XLSTM_EXPECT_CLOSE(gw[1], gwant[1], 1e-4);
  }
}

}  // namespace
}  // namespace xlstm
