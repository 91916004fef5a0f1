// The `xlstm::` mLSTM ops on the CPU: registration, the CPU kernels (the ATen reference), the autograd
// path through mlstm_chunkwise_bw (finite differences), the step ops, and argument errors.
#include <ATen/core/dispatch/Dispatcher.h>

#include <cmath>
#include <limits>

#include "gradcheck.h"
#include "mlstm_testing.h"
#include "testing.h"
#include "xlstm/mlstm/backends.h"
#include "xlstm/ops.h"

namespace xlstm {
namespace {

using testing::random_mlstm_inputs;
using testing::random_mlstm_state;

TEST(MlstmOps, SchemasAreRegistered) {
  for (const char* name : {"xlstm::mlstm_chunkwise_fw", "xlstm::mlstm_chunkwise_fw_cached", "xlstm::mlstm_chunkwise_bw",
                           "xlstm::mlstm_step", "xlstm::mlstm_step_"})
    EXPECT_TRUE(c10::Dispatcher::singleton().findSchema({name, ""}).has_value()) << name;
}

TEST(MlstmOps, CpuForwardIsTheReferenceWithItsStabiliser) {
  torch::manual_seed(0);
  for (bool with_state : {false, true}) {
    auto in = random_mlstm_inputs(2, 3, 45, 8, 6);
    mLSTMState s0 = with_state ? random_mlstm_state(2, 3, 8, 6) : mLSTMState{};
    auto opt = [&](const torch::Tensor& t) { return with_state ? ops::OptTensor(t) : std::nullopt; };
    auto [h, n_out, m_out, c, n, m] = ops::mlstm_chunkwise_fw(in.q, in.k, in.v, in.i, in.f, opt(s0.C), opt(s0.n),
                                                              opt(s0.m), 16, kMlstmEps);
    auto [h_ref, s_ref] = mlstm_chunkwise(in.q, in.k, in.v, in.i, in.f, s0, 16);
    EXPECT_TRUE(torch::equal(h, h_ref));
    EXPECT_TRUE(torch::equal(c, s_ref.C) && torch::equal(n, s_ref.n) && torch::equal(m, s_ref.m));
    // m_out is the running maximum m_t = max(logsigmoid(f_t) + m_{t-1}, i_t), computed here step by step.
    auto m_t = with_state ? s0.m.squeeze(-1) : torch::full({2, 3}, -std::numeric_limits<float>::infinity());
    for (int64_t t = 0; t < 45; ++t) {
      m_t = torch::maximum(torch::log_sigmoid(in.f.select(2, t)) + m_t, in.i.select(2, t));
      XLSTM_EXPECT_CLOSE(m_out.select(2, t), m_t, 1e-6);
    }
    // |n_out| = max(|q~.n_t|, exp(-m_t)) is the denominator: h_t (|n_out| + eps) = q~^T C_t for the last t.
    const auto qt = in.q.select(2, 44) / std::sqrt(8.0);
    auto num = torch::matmul(qt.unsqueeze(-2), c).squeeze(-2);
    XLSTM_EXPECT_CLOSE(h.select(2, 44) * (n_out.select(2, 44).abs() + kMlstmEps).unsqueeze(-1), num, 1e-5);
    EXPECT_TRUE((n_out.abs() >= torch::exp(-m_out) * (1 - 1e-6)).all().item<bool>());
  }
}

TEST(MlstmOps, AutogradThroughTheBackwardOpMatchesFiniteDifferences) {
  torch::manual_seed(1);
  auto in = random_mlstm_inputs(1, 2, 7, 3, 2, true, torch::kFloat64);
  in.i = in.i / 3.0;  // finite differences need a smooth neighbourhood
  auto s0 = random_mlstm_state(1, 2, 3, 2, torch::kFloat64);
  auto all_outputs = [](const std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor,
                                         torch::Tensor>& out) {
    const auto flat = torch::cat({std::get<0>(out).flatten(), std::get<3>(out).flatten(), std::get<4>(out).flatten(),
                                  std::get<5>(out).flatten()});
    return testing::random_projection(flat, 3);
  };
  testing::expect_gradients_match_finite_differences(
      [&](const std::vector<torch::Tensor>& x) {
        return all_outputs(ops::mlstm_chunkwise_fw(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], 3, kMlstmEps));
      },
      {in.q, in.k, in.v, in.i, in.f, s0.C, s0.n, s0.m});
  testing::expect_gradients_match_finite_differences(
      [&](const std::vector<torch::Tensor>& x) {
        return all_outputs(ops::mlstm_chunkwise_fw(x[0], x[1], x[2], x[3], x[4], std::nullopt, std::nullopt,
                                                   std::nullopt, 4, kMlstmEps));
      },
      {in.q, in.k, in.v, in.i, in.f});
}

TEST(MlstmOps, BackwardOpWithoutInitialStateLeavesStateGradientsUndefined) {
  torch::manual_seed(2);
  auto in = random_mlstm_inputs(1, 1, 9, 4, 4);
  auto [h, n_out, m_out, c, n, m] =
      ops::mlstm_chunkwise_fw(in.q, in.k, in.v, in.i, in.f, std::nullopt, std::nullopt, std::nullopt, 4, kMlstmEps);
  auto g = ops::mlstm_chunkwise_bw(torch::randn_like(h), std::nullopt, std::nullopt, std::nullopt, in.q, in.k, in.v,
                                   in.i, in.f, std::nullopt, std::nullopt, std::nullopt, n_out, m_out, 4, kMlstmEps);
  EXPECT_EQ(std::get<0>(g).sizes(), in.q.sizes());
  EXPECT_EQ(std::get<4>(g).sizes(), in.f.sizes());
  EXPECT_FALSE(std::get<5>(g).defined() || std::get<6>(g).defined() || std::get<7>(g).defined());
}

// On the ATen path the cached forward is the forward with an empty cache, and the backward takes the
// cache arguments (empty = none) and gives the same gradients.
TEST(MlstmOps, CachedForwardOnTheCpuHasAnEmptyCache) {
  torch::manual_seed(8);
  auto in = random_mlstm_inputs(2, 2, 21, 8, 4);
  const auto none = std::nullopt;
  auto [h, n_out, m_out, c, n, m] = ops::mlstm_chunkwise_fw(in.q, in.k, in.v, in.i, in.f, none, none, none, 8, kMlstmEps);
  auto [h2, n_out2, m_out2, c2, n2, m2, chunk_states, chunk_n, chunk_m] =
      ops::mlstm_chunkwise_fw_cached(in.q, in.k, in.v, in.i, in.f, none, none, none, 8, kMlstmEps);
  EXPECT_TRUE(torch::equal(h, h2) && torch::equal(n_out, n_out2) && torch::equal(m_out, m_out2));
  EXPECT_TRUE(torch::equal(c, c2) && torch::equal(n, n2) && torch::equal(m, m2));
  EXPECT_EQ(chunk_states.numel() + chunk_n.numel() + chunk_m.numel(), 0);
  auto dh = torch::randn_like(h);
  auto g = ops::mlstm_chunkwise_bw(dh, none, none, none, in.q, in.k, in.v, in.i, in.f, none, none, none, n_out, m_out,
                                   8, kMlstmEps);
  auto g2 = ops::mlstm_chunkwise_bw(dh, none, none, none, in.q, in.k, in.v, in.i, in.f, none, none, none, n_out,
                                    m_out, 8, kMlstmEps, chunk_states, chunk_n, chunk_m);
  EXPECT_TRUE(torch::equal(std::get<0>(g), std::get<0>(g2)) && torch::equal(std::get<4>(g), std::get<4>(g2)));
}

TEST(MlstmOps, StepOpsAreTheReferenceStep) {
  torch::manual_seed(3);
  auto in = random_mlstm_inputs(2, 3, 1, 8, 4);
  auto s0 = random_mlstm_state(2, 3, 8, 4);
  auto q = in.q.squeeze(2), k = in.k.squeeze(2), v = in.v.squeeze(2), i = in.i.squeeze(2), f = in.f.squeeze(2);
  auto [h_ref, s_ref] = mlstm_step(q, k, v, i, f, s0);
  auto [h, c, n, m] = ops::mlstm_step(q, k, v, i, f, s0.C, s0.n, s0.m, kMlstmEps);
  EXPECT_TRUE(torch::equal(h, h_ref) && torch::equal(c, s_ref.C) && torch::equal(n, s_ref.n) &&
              torch::equal(m, s_ref.m));
  auto ci = s0.C.clone(), ni = s0.n.clone(), mi = s0.m.clone();
  auto h2 = ops::mlstm_step_(q, k, v, i, f, ci, ni, mi, kMlstmEps);
  EXPECT_TRUE(torch::equal(h2, h_ref) && torch::equal(ci, s_ref.C) && torch::equal(ni, s_ref.n) &&
              torch::equal(mi, s_ref.m));
  // The state wrapper starts a fresh state at m = -inf, like the reference's empty state.
  auto [h3, s3] = ops::mlstm_step(q, k, v, i, f, mLSTMState{});
  auto [h3_ref, s3_ref] = mlstm_step(q, k, v, i, f, {});
  EXPECT_TRUE(torch::equal(h3, h3_ref) && torch::equal(s3.m, s3_ref.m));
}

// Expects a c10::Error whose message contains `needle`.
template <class F>
void expect_error(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error, expected one mentioning '" << needle << "'";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what_without_backtrace()).find(needle), std::string::npos) << e.what_without_backtrace();
  }
}

TEST(MlstmOps, RejectsBadArgumentsNamingThem) {
  auto in = random_mlstm_inputs(1, 2, 5, 4, 4);
  auto s0 = random_mlstm_state(1, 2, 4, 4);
  const auto none = std::nullopt;
  auto fw = [&](const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& i, ops::OptTensor c0,
                ops::OptTensor n0, ops::OptTensor m0, int64_t chunk) {
    return ops::mlstm_chunkwise_fw(q, k, in.v, i, in.f, c0, n0, m0, chunk, kMlstmEps);
  };
  expect_error([&] { fw(in.q, in.k.to(torch::kBFloat16), in.i, none, none, none, 4); }, "k must be Float");
  expect_error([&] { fw(in.q, in.k, in.i.to(torch::kBFloat16), none, none, none, 4); }, "igate must be Float");
  expect_error([&] { fw(in.q.to(torch::kInt32), in.k, in.i, none, none, none, 4); }, "q must be float32");
  expect_error([&] { fw(in.q, in.k, in.i, s0.C, s0.n, none, 4); }, "give all of c0, n0, m0");
  expect_error([&] { fw(in.q, in.k, in.i, s0.C, s0.n, s0.m.to(torch::kFloat64), 4); }, "m0 must be Float");
  expect_error([&] { fw(in.q, in.k, in.i, s0.C.narrow(3, 0, 3), s0.n, s0.m, 4); }, "state C must be");
  expect_error([&] { fw(in.q, in.k.narrow(2, 0, 4), in.i, none, none, none, 4); }, "k must have the shape");
  expect_error([&] { fw(in.q, in.k, in.i, none, none, none, 0); }, "chunk_size must be >= 1, got 0");
  auto [h, n_out, m_out, c, n, m] = fw(in.q, in.k, in.i, none, none, none, 4);
  expect_error(
      [&] {
        ops::mlstm_chunkwise_bw(h.narrow(2, 0, 4), none, none, none, in.q, in.k, in.v, in.i, in.f, none, none, none,
                                n_out, m_out, 4, kMlstmEps);
      },
      "dh must have shape");
  expect_error(
      [&] {
        ops::mlstm_chunkwise_bw(h, torch::zeros({1, 2, 4}), none, none, in.q, in.k, in.v, in.i, in.f, none, none, none,
                                n_out, m_out, 4, kMlstmEps);
      },
      "dc_last must have shape");
  expect_error(
      [&] {
        ops::mlstm_chunkwise_bw(h, none, none, none, in.q, in.k, in.v, in.i, in.f, none, none, none, n_out, m_out, 4,
                                kMlstmEps, torch::zeros({1, 2, 2, 4, 4}), none, torch::zeros({1, 2, 3}));
      },
      "give all of chunk_states, chunk_n, chunk_m or none (got chunk_states yes, chunk_n no, chunk_m yes)");
  auto q1 = in.q.select(2, 0), k1 = in.k.select(2, 0), v1 = in.v.select(2, 0);
  expect_error([&] { ops::mlstm_step(q1, k1, v1, in.i, in.f.select(2, 0), s0.C, s0.n, s0.m, kMlstmEps); },
               "igate must have shape");
  expect_error([&] { ops::mlstm_step(q1, k1, v1, in.i.select(2, 0), in.f.select(2, 0), s0.C, s0.n, s0.m, -1.0); },
               "eps must be finite and >= 0");
}

}  // namespace
}  // namespace xlstm
