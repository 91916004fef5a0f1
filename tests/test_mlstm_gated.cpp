// ops::mlstm_gated_chunkwise (the NeurIPS cell with its gate projections as one differentiable
// function) against the modules' formulation, Linear(cat(q, k, v)) then the chunkwise op: outputs,
// last states and the gradients of q, k, v and the gate parameters, with and without biases, and the
// argument errors, with the chunk states kept for the backward or recomputed by it; on a GPU in fp32
// against the fp64 formulation on the CPU, in bf16 against the modules' formulation on the GPU, and
// the mLSTM layer on CUDA runs it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "autograd_graph.h"
#include "testing.h"
#include "xlstm/mlstm/layer.h"
#include "xlstm/ops.h"

namespace xlstm {
namespace {

using testing::error_message;

struct GatedInputs {
  torch::Tensor q, k, v, w_i, b_i, w_f, b_f, dh, dc;
};

GatedInputs random_gated(int64_t B, int64_t S, int64_t NH, int64_t DH, bool bias) {
  const int64_t Di = NH * DH;
  GatedInputs in;
  in.q = torch::randn({B, S, Di}, torch::kFloat64);
  in.k = torch::randn({B, S, Di}, torch::kFloat64) / std::sqrt(static_cast<double>(DH));
  in.v = torch::randn({B, S, Di}, torch::kFloat64);
  // Pre-activations of standard deviation ~1 around the biases (the reference initialises the gate
  // weights to zero; far larger ones make h chaotic in the gates' rounding).
  const double w_scale = 1.0 / std::sqrt(static_cast<double>(3 * Di));
  in.w_i = torch::randn({NH, 3 * Di}, torch::kFloat64) * w_scale;
  in.w_f = torch::randn({NH, 3 * Di}, torch::kFloat64) * w_scale;
  if (bias) in.b_i = torch::randn({NH}, torch::kFloat64), in.b_f = torch::randn({NH}, torch::kFloat64) + 3;
  in.dh = torch::randn({B, NH, S, DH}, torch::kFloat64);
  in.dc = torch::randn({B, NH, DH, DH}, torch::kFloat64);
  return in;
}

struct GatedResult {
  torch::Tensor h, c_last;
  std::vector<torch::Tensor> grads;  // q, k, v, w_i, b_i, w_f, b_f (undefined biases: undefined)
};

// The gradients of sum(h * dh) + sum(C_last * dc); the inputs converted to dt on device (parameters fp32
// unless dt is fp64), by the fused function or by the modules' formulation.
GatedResult run_gated(const GatedInputs& in, torch::Dtype dt, torch::Device device, bool fused, int64_t chunk,
                      bool keep_chunk_states = true) {
  const auto pdt = dt == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  const auto leaf = [&](const torch::Tensor& t, torch::Dtype d) {
    return t.defined() ? t.detach().to(device, d).requires_grad_(true) : torch::Tensor();
  };
  std::vector<torch::Tensor> x{leaf(in.q, dt), leaf(in.k, dt), leaf(in.v, dt), leaf(in.w_i, pdt), leaf(in.b_i, pdt),
                               leaf(in.w_f, pdt), leaf(in.b_f, pdt)};
  const int64_t NH = in.w_i.size(0);
  torch::Tensor h;
  mLSTMState state;
  if (fused) {
    std::tie(h, state) =
        ops::mlstm_gated_chunkwise(x[0], x[1], x[2], x[3], x[4], x[5], x[6], NH, chunk, 1e-6, keep_chunk_states);
  } else {
    const auto gate_input = torch::cat({x[0], x[1], x[2]}, -1);
    const auto gate = [&](const torch::Tensor& w, const torch::Tensor& b) {
      const auto y = torch::nn::functional::linear(gate_input, w.to(dt), b.defined() ? b.to(dt) : torch::Tensor());
      return y.transpose(1, 2);
    };
    const auto heads = [&](const torch::Tensor& t) {
      return t.view({t.size(0), t.size(1), NH, t.size(2) / NH}).transpose(1, 2);
    };
    std::tie(h, state) = ops::mlstm_chunkwise(heads(x[0]), heads(x[1]), heads(x[2]), gate(x[3], x[4]),
                                              gate(x[5], x[6]), {}, chunk, 1e-6);
  }
  const auto loss = (h.to(torch::kFloat64) * in.dh.to(device)).sum() +
                    (state.C.to(torch::kFloat64) * in.dc.to(device)).sum();
  std::vector<torch::Tensor> inputs;
  for (const auto& t : x)
    if (t.defined()) inputs.push_back(t);
  const auto g = torch::autograd::grad({loss}, inputs);
  GatedResult r{h, state.C, {}};
  size_t at = 0;
  for (const auto& t : x) r.grads.push_back(t.defined() ? g[at++] : torch::Tensor());
  return r;
}

void expect_same_result(const GatedResult& got, const GatedResult& want, double tol) {
  XLSTM_EXPECT_CLOSE(got.h, want.h, tol);
  XLSTM_EXPECT_CLOSE(got.c_last, want.c_last, tol);
  const char* names[] = {"dq", "dk", "dv", "dw_i", "db_i", "dw_f", "db_f"};
  for (size_t i = 0; i < want.grads.size(); ++i) {
    SCOPED_TRACE(names[i]);
    ASSERT_EQ(got.grads[i].defined(), want.grads[i].defined());
    if (!want.grads[i].defined()) continue;
    // Relative to the gradient's norm, or absolute below norm 1: the input gate's bias gradient is
    // ~0 (a common shift of i is absorbed by the stabiliser wherever |n.q| is the denominator).
    const double scale = std::max(1.0, want.grads[i].to(torch::kFloat64).norm().item<double>());
    const double err = (got.grads[i].to(torch::kCPU, torch::kFloat64) - want.grads[i].to(torch::kCPU, torch::kFloat64))
                           .norm()
                           .item<double>();
    // The biases' gradients are sums over every token: their rounding cancels less than it adds up.
    EXPECT_LE(err / scale, (i == 4 || i == 6) ? 3 * tol : tol);
  }
}

TEST(MlstmGated, MatchesTheModulesFormulation) {
  torch::manual_seed(0);
  struct Case {
    int64_t B, S, NH, DH, chunk;
    bool bias;
  };
  for (const auto& k : {Case{1, 2, 1, 4, 64, true}, Case{2, 37, 2, 8, 16, true}, Case{3, 64, 4, 4, 32, false}}) {
    for (const auto dt : {torch::kFloat64, torch::kFloat32}) {
      std::ostringstream name;
      name << "B" << k.B << " S" << k.S << " NH" << k.NH << " DH" << k.DH << " L" << k.chunk << (k.bias ? " bias " : " ")
           << c10::toString(dt);
      SCOPED_TRACE(name.str());
      const auto in = random_gated(k.B, k.S, k.NH, k.DH, k.bias);
      const auto want = run_gated(in, dt, torch::kCPU, false, k.chunk);
      const double tol = dt == torch::kFloat64 ? 1e-12 : 5e-5;  // fp32: summation order
      expect_same_result(run_gated(in, dt, torch::kCPU, true, k.chunk), want, tol);
      expect_same_result(run_gated(in, dt, torch::kCPU, true, k.chunk, /*keep_chunk_states=*/false), want, tol);
    }
  }
}

TEST(MlstmGated, WithoutGradientsIsTheSameFunction) {
  torch::manual_seed(1);
  const auto in = random_gated(2, 20, 2, 8, true);
  const auto q = in.q.clone().requires_grad_(true);  // through the autograd function
  const auto [h_grad, s_grad] = ops::mlstm_gated_chunkwise(q, in.k, in.v, in.w_i, in.b_i, in.w_f, in.b_f, 2, 16, 1e-6);
  ASSERT_TRUE(h_grad.requires_grad());
  torch::NoGradGuard no_grad;
  const auto [h, s] = ops::mlstm_gated_chunkwise(in.q, in.k, in.v, in.w_i, in.b_i, in.w_f, in.b_f, 2, 16, 1e-6);
  XLSTM_EXPECT_CLOSE(h, h_grad, 1e-14);
  XLSTM_EXPECT_CLOSE(s.m, s_grad.m, 1e-14);
}

TEST(MlstmGated, BadArgumentsAreNamed) {
  const auto in = random_gated(1, 4, 2, 4, true);
  const auto call = [&](const torch::Tensor& q, const torch::Tensor& w_i, const torch::Tensor& b_f, int64_t NH) {
    return error_message([&] { ops::mlstm_gated_chunkwise(q, in.k, in.v, w_i, in.b_i, in.w_f, b_f, NH, 64, 1e-6); });
  };
  EXPECT_NE(call(in.q.narrow(2, 0, 4), in.w_i, in.b_f, 2).find("q, k, v must be (B, S, Di) alike"), std::string::npos);
  EXPECT_NE(call(in.q, in.w_i, in.b_f, 3).find("multiple of num_heads 3"), std::string::npos);
  EXPECT_NE(call(in.q, in.w_i.narrow(1, 0, 5), in.b_f, 2).find("w_i must be [2, 24]"), std::string::npos);
  EXPECT_NE(call(in.q, in.w_i, in.b_f.narrow(0, 0, 1), 2).find("the bias of w_f must be (2)"), std::string::npos);
}

// ------------------------------------------------------------------------------------------ CUDA

class CudaMlstmGated : public xlstm::testing::CudaTest {};

// The fused function in `dt` on the GPU against the modules' formulation in want_dt on want_device,
// for S in {2, 100, 300}.
void expect_gpu_matches(torch::Dtype dt, torch::Dtype want_dt, torch::Device want_device, double tol) {
  for (const int64_t S : {2, 100, 300}) {
    SCOPED_TRACE("S " + std::to_string(S));
    const auto in = random_gated(2, S, 2, 64, true);
    expect_same_result(run_gated(in, dt, torch::kCUDA, true, 64), run_gated(in, want_dt, want_device, false, 64), tol);
  }
}

TEST_F(CudaMlstmGated, Fp32MatchesTheFp64Formulation) {
  torch::manual_seed(2);
  expect_gpu_matches(torch::kFloat32, torch::kFloat64, torch::kCPU, 1e-5);
}

// In bf16 the gates are rounded as the modules' bf16 Linear output is: the comparison is with the
// modules' formulation on the GPU in bf16 (the same kernels, the gates from one GEMM over cat(q, k, v)).
TEST_F(CudaMlstmGated, Bf16MatchesTheModulesFormulation) {
  torch::manual_seed(4);
  expect_gpu_matches(torch::kBFloat16, torch::kBFloat16, torch::kCUDA, 1e-2);
}

// Without the kept chunk states the backward recomputes them: the same states, the same gradients
// (up to the order of the backward's fp64 atomic sums).
TEST_F(CudaMlstmGated, RecomputedChunkStatesGiveTheSameGradients) {
  torch::manual_seed(5);
  const auto in = random_gated(2, 300, 2, 64, true);
  for (const torch::Dtype dt : {torch::kFloat32, torch::kBFloat16}) {
    SCOPED_TRACE(c10::toString(dt));
    expect_same_result(run_gated(in, dt, torch::kCUDA, true, 128, false), run_gated(in, dt, torch::kCUDA, true, 128),
                       1e-5);
  }
}

TEST_F(CudaMlstmGated, TheLayerRunsIt) {
  torch::manual_seed(3);
  auto config = mLSTMLayerConfig{};
  config.embedding_dim = 64;
  config.num_heads = 2;
  config.context_length = 32;
  config.post_init();
  mLSTMLayer layer(config);
  layer->to(torch::kCUDA);
  const auto x = torch::randn({2, 32, 64}, torch::kCUDA).requires_grad_(true);
  EXPECT_TRUE(testing::graph_has(std::get<0>(layer->forward(x)), "GatedChunkwiseFunction"));
}

}  // namespace
}  // namespace xlstm
