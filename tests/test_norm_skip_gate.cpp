// xlstm::mlstm_norm_skip_gate (the mLSTM layer's outnorm, learnable skip and output gate in one op).
// CPU: the op equals the modules it replaces (MultiHeadLayerNorm, skip, SiLU gate), its backward
// formulas equal finite differences (fp64), and bad arguments name the argument. CUDA (skipped without
// a device): the kernels against the fp64 ATen implementation on the same inputs over head dims 16-1024
// (and 18, which they leave to the ATen path), strided c/z, three dtypes, from NaN-poisoned memory;
// bit-reproducible parameter gradients; the mLSTM layer on CUDA (fused) against the same layer on the
// CPU (modules).
#include <c10/cuda/CUDACachingAllocator.h>

#include <sstream>

#include "gradcheck.h"
#include "testing.h"
#include "xlstm/mlstm/layer.h"
#include "xlstm/ops.h"

namespace xlstm {
namespace {

struct Inputs {
  torch::Tensor h, c, z, w, skip, gy;  // gy: the loss weight of y
};

// h (B, NH, S, DH); c as the layer makes it (a transposed convolution output), z a column half of a
// wider projection (row stride 2 Di); parameters around their trained ranges.
Inputs random_inputs(int64_t B, int64_t S, int64_t NH, int64_t DH, torch::Dtype dt, torch::Device device) {
  const auto o = torch::TensorOptions().device(device).dtype(torch::kFloat64);
  const int64_t Di = NH * DH;
  Inputs in;
  in.h = (torch::randn({B, NH, S, DH}, o) * 2 + 0.5).to(dt);
  in.c = torch::randn({B, Di, S}, o).to(dt).transpose(1, 2);
  in.z = (torch::randn({B, S, 2 * Di}, o) * 2).to(dt).narrow(2, Di, Di);
  in.w = torch::randn({Di}, o) * 0.3;
  in.skip = 1 + torch::randn({Di}, o) * 0.3;
  in.gy = torch::randn({B, S, Di}, o);
  return in;
}

// The layer's module path: outnorm (group norm with weight offset), skip, SiLU gate.
torch::Tensor modules(const Inputs& in, MultiHeadLayerNorm& norm) {
  return (norm->forward(in.h) + in.skip.to(in.h.dtype()) * in.c) * torch::silu(in.z);
}

TEST(NormSkipGate, EqualsTheModulesItReplaces) {
  torch::manual_seed(0);
  for (const int64_t DH : {16, 48, 64}) {
    const auto in = random_inputs(2, 5, 3, DH, torch::kFloat64, torch::kCPU);
    MultiHeadLayerNorm norm(3 * DH, true, false);
    norm->to(torch::kFloat64);
    {
      torch::NoGradGuard g;
      norm->weight.copy_(in.w);
    }
    const auto [y, mean, rstd] = ops::mlstm_norm_skip_gate(in.h, in.c, in.z, in.w, in.skip, norm->eps());
    XLSTM_EXPECT_CLOSE(y, modules(in, norm), 1e-12);
    EXPECT_EQ(mean.sizes(), (c10::IntArrayRef{2, 5, 3}));
    XLSTM_EXPECT_CLOSE(mean, in.h.mean(-1).transpose(1, 2), 1e-12);
    XLSTM_EXPECT_CLOSE(rstd, (in.h.var(-1, /*unbiased=*/false) + norm->eps()).rsqrt().transpose(1, 2), 1e-12);
  }
}

TEST(NormSkipGate, BackwardMatchesFiniteDifferences) {
  torch::manual_seed(1);
  const auto in = random_inputs(2, 3, 2, 5, torch::kFloat64, torch::kCPU);
  testing::expect_gradients_match_finite_differences(
      [&](const std::vector<torch::Tensor>& x) {
        auto y = std::get<0>(ops::mlstm_norm_skip_gate(x[0], x[1], x[2], x[3], x[4], 1e-5));
        return (y * in.gy).sum();
      },
      {in.h, in.c.contiguous(), in.z.contiguous(), in.w, in.skip});
}

TEST(NormSkipGate, GradientsThroughTheOpEqualThoseThroughTheModules) {
  torch::manual_seed(2);
  const auto in = random_inputs(3, 7, 4, 32, torch::kFloat32, torch::kCPU);
  MultiHeadLayerNorm norm(4 * 32, true, false);
  auto leaves = [&] {
    std::vector<torch::Tensor> x{in.h, in.c, in.z, in.w.to(torch::kFloat32), in.skip.to(torch::kFloat32)};
    for (auto& t : x) t = t.detach().clone().requires_grad_(true);
    return x;
  };
  auto a = leaves(), b = leaves();
  const auto gy = in.gy.to(torch::kFloat32);
  const auto ya = std::get<0>(ops::mlstm_norm_skip_gate(a[0], a[1], a[2], a[3], a[4], norm->eps()));
  const auto ga = torch::autograd::grad({(ya * gy).sum()}, a);
  norm->weight = b[3];  // the module reads the leaf as its weight
  const Inputs mb{b[0], b[1], b[2], b[3], b[4], gy};
  const auto gb = torch::autograd::grad({(modules(mb, norm) * gy).sum()}, b);
  for (size_t i = 0; i < ga.size(); ++i) {
    SCOPED_TRACE("input " + std::to_string(i));
    XLSTM_EXPECT_CLOSE(ga[i], gb[i], 1e-5);
  }
}

TEST(NormSkipGate, BadArgumentsNameTheArgument) {
  const auto in = random_inputs(2, 3, 2, 4, torch::kFloat32, torch::kCPU);
  const auto w = in.w.to(torch::kFloat32), sk = in.skip.to(torch::kFloat32);
  const auto message = testing::error_message;
  EXPECT_NE(message([&] { ops::mlstm_norm_skip_gate(in.h.flatten(0, 1), in.c, in.z, w, sk, 1e-5); }).find("h must"),
            std::string::npos);
  EXPECT_NE(message([&] { ops::mlstm_norm_skip_gate(in.h, in.c.narrow(1, 0, 2), in.z, w, sk, 1e-5); }).find("c must"),
            std::string::npos);
  EXPECT_NE(message([&] { ops::mlstm_norm_skip_gate(in.h, in.c, in.z.to(torch::kFloat64), w, sk, 1e-5); })
                .find("z must have h's dtype"),
            std::string::npos);
  EXPECT_NE(message([&] { ops::mlstm_norm_skip_gate(in.h, in.c, in.z, w.narrow(0, 0, 3), sk, 1e-5); })
                .find("norm_weight must"),
            std::string::npos);
  const auto [y, mean, rstd] = ops::mlstm_norm_skip_gate(in.h, in.c, in.z, w, sk, 1e-5);
  EXPECT_NE(message([&] { ops::mlstm_norm_skip_gate_bw(y, in.h, in.c, in.z, w, sk, mean.narrow(1, 0, 2), rstd); })
                .find("mean must"),
            std::string::npos);
}

// ------------------------------------------------------------------------------------------ CUDA

class CudaNormSkipGate : public xlstm::testing::CudaTest {};

struct Result {
  torch::Tensor y, dh, dc, dz, dw, dskip;
};

// y and the gradients of sum(y * gy); the inputs converted to `dt` (parameters to `pdt`).
Result run(const Inputs& in, torch::Dtype dt, torch::Dtype pdt, torch::Device device) {
  const auto leaf = [&](const torch::Tensor& t, torch::Dtype d) {
    return t.detach().to(device, d).requires_grad_(true);
  };
  // Keep c's and z's strides: the kernels address strided rows.
  auto h = leaf(in.h, dt);
  auto cbase = in.c.transpose(1, 2).detach().to(device, dt);
  auto c = cbase.transpose(1, 2).detach().requires_grad_(true);
  auto zbase = torch::cat({in.z, in.z}, 2).detach().to(device, dt);
  auto z = zbase.narrow(2, in.z.size(2), in.z.size(2)).detach().requires_grad_(true);
  auto w = leaf(in.w, pdt), sk = leaf(in.skip, pdt);
  const auto y = std::get<0>(ops::mlstm_norm_skip_gate(h, c, z, w, sk, 1e-5));
  const auto g = torch::autograd::grad({(y.to(torch::kFloat64) * in.gy.to(device)).sum()}, {h, c, z, w, sk});
  return {y, g[0], g[1], g[2], g[3], g[4]};
}

TEST_F(CudaNormSkipGate, KernelsMatchTheReference) {
  torch::manual_seed(3);
  struct Case {
    int64_t B, S, NH, DH;
  };
  for (const auto& k : {Case{1, 1, 1, 16}, Case{2, 7, 4, 64}, Case{3, 100, 4, 384}, Case{2, 33, 2, 100},
                        Case{1, 20, 3, 1024}, Case{4, 257, 8, 128}, Case{2, 5, 2, 18}}) {
    for (const auto dt : {torch::kFloat32, torch::kBFloat16, torch::kFloat16}) {
      std::ostringstream name;
      name << "B" << k.B << " S" << k.S << " NH" << k.NH << " DH" << k.DH << " " << c10::toString(dt);
      SCOPED_TRACE(name.str());
      // The reference on the inputs as the kernels see them (rounded to dt), in fp64 on the CPU.
      auto in = random_inputs(k.B, k.S, k.NH, k.DH, dt, torch::kCPU);
      in.h = in.h.to(torch::kFloat64);
      in.c = in.c.to(torch::kFloat64);
      in.z = in.z.to(torch::kFloat64);
      const auto ref = run(in, torch::kFloat64, torch::kFloat64, torch::kCPU);
      testing::poison_cuda_allocator(64 << 20);
      const auto got = run(in, dt, torch::kFloat32, torch::kCUDA);
      const double tol = dt == torch::kFloat32 ? 1e-5 : 1e-2;
      XLSTM_EXPECT_CLOSE(got.y, ref.y, tol);
      XLSTM_EXPECT_CLOSE(got.dh, ref.dh, tol);
      XLSTM_EXPECT_CLOSE(got.dc, ref.dc, tol);
      XLSTM_EXPECT_CLOSE(got.dz, ref.dz, tol);
      XLSTM_EXPECT_CLOSE(got.dw, ref.dw, tol);
      XLSTM_EXPECT_CLOSE(got.dskip, ref.dskip, tol);
    }
  }
}

TEST_F(CudaNormSkipGate, UnsupportedHeadDimFallsBack) {
  auto in = random_inputs(1, 3, 1, 1040, torch::kFloat64, torch::kCPU);
  const auto ref = run(in, torch::kFloat64, torch::kFloat64, torch::kCPU);
  const auto got = run(in, torch::kFloat32, torch::kFloat32, torch::kCUDA);
  XLSTM_EXPECT_CLOSE(got.y, ref.y, 1e-5);
  XLSTM_EXPECT_CLOSE(got.dh, ref.dh, 1e-5);
}

TEST_F(CudaNormSkipGate, ParameterGradientsAreBitReproducible) {
  torch::manual_seed(4);
  const auto in = random_inputs(8, 512, 4, 384, torch::kBFloat16, torch::kCPU);
  const auto first = run(in, torch::kBFloat16, torch::kFloat32, torch::kCUDA);
  for (int rep = 0; rep < 5; ++rep) {
    const auto again = run(in, torch::kBFloat16, torch::kFloat32, torch::kCUDA);
    EXPECT_TRUE(torch::equal(again.dw, first.dw));
    EXPECT_TRUE(torch::equal(again.dskip, first.dskip));
    EXPECT_TRUE(torch::equal(again.dh, first.dh));
  }
}

// The mLSTM layer runs the fused op on CUDA and the modules on the CPU: same outputs and gradients.
TEST_F(CudaNormSkipGate, LayerOnCudaMatchesTheLayerOnTheCpu) {
  torch::manual_seed(5);
  mLSTMLayerConfig cfg;
  cfg.embedding_dim = 64;
  cfg.num_heads = 2;
  cfg.context_length = 40;
  cfg._num_blocks = 1;
  cfg.post_init();
  mLSTMLayer cpu(cfg);
  {
    torch::NoGradGuard g;
    for (auto& p : cpu->parameters()) p.add_(torch::randn_like(p) * 0.1);
  }
  mLSTMLayer gpu(cfg);
  gpu->to(torch::kCUDA);
  {
    torch::NoGradGuard g;
    const auto src = cpu->named_parameters();
    for (auto& p : gpu->named_parameters()) p.value().copy_(src[p.key()]);
  }
  const auto x = torch::randn({2, 40, 64});
  const auto xc = x.clone().requires_grad_(true), xg = x.to(torch::kCUDA).requires_grad_(true);
  const auto yc = std::get<0>(cpu->forward(xc)), yg = std::get<0>(gpu->forward(xg));
  XLSTM_EXPECT_CLOSE(yg, yc, 1e-5);
  yc.square().sum().backward();
  yg.square().sum().backward();
  XLSTM_EXPECT_CLOSE(xg.grad(), xc.grad(), 1e-4);
  const auto gc = cpu->named_parameters();
  for (const auto& p : gpu->named_parameters()) {
    SCOPED_TRACE(p.key());
    XLSTM_EXPECT_CLOSE(p.value().grad(), gc[p.key()].grad(), 1e-4);
  }
}

}  // namespace
}  // namespace xlstm
