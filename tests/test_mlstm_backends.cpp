// The three mLSTM cell formulations against each other and against a float64 step loop written here
// from the paper's equations, on odd shapes, with and without initial states; gradients by finite
// differences.
#include <cmath>

#include "gradcheck.h"
#include "mlstm_testing.h"
#include "testing.h"
#include "xlstm/mlstm/backends.h"

namespace xlstm {
namespace {

using testing::MlstmInputs;
using testing::random_mlstm_inputs;
using testing::random_mlstm_state;

// The unstabilised recurrence in float64 (valid while exp() stays in range): the ground truth.
torch::Tensor naive_h(const MlstmInputs& in, const mLSTMState& s0) {
  auto q = in.q.to(torch::kFloat64), k = in.k.to(torch::kFloat64), v = in.v.to(torch::kFloat64);
  auto ig = in.i.to(torch::kFloat64), fg = in.f.to(torch::kFloat64);
  const int64_t B = q.size(0), NH = q.size(1), S = q.size(2), DK = q.size(3), DV = v.size(3);
  // Unstabilised state: C_true = exp(m) * C_stabilised.
  torch::Tensor C = torch::zeros({B, NH, DK, DV}, torch::kFloat64), n = torch::zeros({B, NH, DK}, torch::kFloat64);
  if (s0.defined()) {
    auto scale = torch::exp(s0.m.to(torch::kFloat64));
    C = s0.C.to(torch::kFloat64) * scale.unsqueeze(-1);
    n = s0.n.to(torch::kFloat64) * scale;
  }
  std::vector<torch::Tensor> hs;
  for (int64_t t = 0; t < S; ++t) {
    auto fgate = torch::sigmoid(fg.select(2, t)).unsqueeze(-1), igate = torch::exp(ig.select(2, t)).unsqueeze(-1);
    auto kt = k.select(2, t), vt = v.select(2, t), qt = q.select(2, t) / std::sqrt(double(DK));
    C = fgate.unsqueeze(-1) * C + igate.unsqueeze(-1) * kt.unsqueeze(-1) * vt.unsqueeze(-2);
    n = fgate * n + igate * kt;
    auto num = torch::matmul(qt.unsqueeze(-2), C).squeeze(-2);
    auto den = torch::clamp_min((qt * n).sum(-1, true).abs(), 1.0);
    hs.push_back(num / den);
  }
  return torch::stack(hs, 2);
}

TEST(MlstmBackends, AllFormulationsAgreeOnOddShapes) {
  torch::manual_seed(0);
  struct Case { int64_t B, NH, S, DK, DV, chunk; bool with_state; };
  for (auto c : {Case{1, 1, 1, 4, 4, 4, false}, Case{2, 3, 17, 8, 5, 4, true}, Case{1, 2, 33, 6, 10, 8, false},
                 Case{3, 1, 64, 4, 4, 16, true}, Case{2, 2, 7, 3, 9, 64, true}, Case{1, 1, 100, 5, 3, 32, false}}) {
    auto in = random_mlstm_inputs(c.B, c.NH, c.S, c.DK, c.DV);
    mLSTMState s0 = c.with_state ? random_mlstm_state(c.B, c.NH, c.DK, c.DV) : mLSTMState{};
    // Ground truth: the same function in float64; each fp32 formulation must be within 1e-5 of it.
    auto d = [](const torch::Tensor& x) { return x.to(torch::kFloat64); };
    mLSTMState s0d = c.with_state ? mLSTMState{d(s0.C), d(s0.n), d(s0.m)} : mLSTMState{};
    auto [hd, sd] = mlstm_recurrent(d(in.q), d(in.k), d(in.v), d(in.i), d(in.f), s0d);
    auto [hp, sp] = mlstm_parallel(in.q, in.k, in.v, in.i, in.f, s0);
    auto [hc, sc] = mlstm_chunkwise(in.q, in.k, in.v, in.i, in.f, s0, c.chunk);
    auto [hr, sr] = mlstm_recurrent(in.q, in.k, in.v, in.i, in.f, s0);
    SCOPED_TRACE("S=" + std::to_string(c.S) + " chunk=" + std::to_string(c.chunk));
    // The strong forget gates drive the log-decay sums to |b| ~ 300 at S = 100, where fp32 keeps
    // ~3e-5 absolute; exp() turns that into relative error of the same size.
    for (const auto* out : {&hp, &hc, &hr}) XLSTM_EXPECT_CLOSE(*out, hd, 3e-5);
    // All formulations share the stabiliser m, so their states compare directly.
    for (const auto* st : {&sp, &sc, &sr}) {
      XLSTM_EXPECT_CLOSE(st->m, sd.m, 3e-6);
      XLSTM_EXPECT_CLOSE(st->C, sd.C, 3e-5);
      XLSTM_EXPECT_CLOSE(st->n, sd.n, 3e-5);
    }
  }
}

TEST(MlstmBackends, MatchesUnstabilisedRecurrenceInFloat64) {
  torch::manual_seed(1);
  auto in = random_mlstm_inputs(2, 2, 23, 4, 6, false, torch::kFloat64);
  in.i = in.i / 4.0;  // keep exp(i) representable for the unstabilised reference
  auto s0 = random_mlstm_state(2, 2, 4, 6);
  s0 = {s0.C.to(torch::kFloat64), s0.n.to(torch::kFloat64), s0.m.to(torch::kFloat64)};
  auto expected = naive_h(in, s0);
  auto [h, s] = mlstm_chunkwise(in.q, in.k, in.v, in.i, in.f, s0, 5, /*eps=*/0.0);
  XLSTM_EXPECT_CLOSE(h, expected, 1e-10);
  auto expected_fresh = naive_h(in, {});
  auto [h2, s2] = mlstm_parallel(in.q, in.k, in.v, in.i, in.f, {}, 0.0);
  XLSTM_EXPECT_CLOSE(h2, expected_fresh, 1e-10);
}

TEST(MlstmBackends, ContinuationEqualsOneCall) {
  torch::manual_seed(2);
  auto in = random_mlstm_inputs(2, 2, 41, 8, 8);
  auto [h_full, s_full] = mlstm_chunkwise(in.q, in.k, in.v, in.i, in.f, {}, 8);
  const int64_t cut = 13;
  auto part = [&](const torch::Tensor& x, int64_t b, int64_t n) { return x.narrow(2, b, n); };
  auto [h1, s1] = mlstm_parallel(part(in.q, 0, cut), part(in.k, 0, cut), part(in.v, 0, cut), part(in.i, 0, cut),
                                 part(in.f, 0, cut));
  const int64_t rest = 41 - cut;
  auto [h2, s2] = mlstm_chunkwise(part(in.q, cut, rest), part(in.k, cut, rest), part(in.v, cut, rest),
                                  part(in.i, cut, rest), part(in.f, cut, rest), s1, 8);
  XLSTM_EXPECT_CLOSE(torch::cat({h1, h2}, 2), h_full, 2e-5);
  XLSTM_EXPECT_CLOSE(s2.C, s_full.C, 2e-5);
  XLSTM_EXPECT_CLOSE(s2.m, s_full.m, 1e-6);
}

TEST(MlstmBackends, StepEqualsRecurrentSlice) {
  torch::manual_seed(3);
  auto in = random_mlstm_inputs(3, 2, 1, 5, 7);
  auto s0 = random_mlstm_state(3, 2, 5, 7);
  auto [h, s] = mlstm_step(in.q.squeeze(2), in.k.squeeze(2), in.v.squeeze(2), in.i.squeeze(2), in.f.squeeze(2), s0);
  auto [hp, sp] = mlstm_parallel(in.q, in.k, in.v, in.i, in.f, s0);
  XLSTM_EXPECT_CLOSE(h, hp.squeeze(2), 1e-5);
  XLSTM_EXPECT_CLOSE(s.C, sp.C, 1e-5);
}

TEST(MlstmBackends, ExtremeGatesStayFinite) {
  torch::manual_seed(4);
  auto in = random_mlstm_inputs(1, 2, 300, 8, 8, /*conditioned=*/false);
  in.i = in.i * 20.0;  // |i| up to ~500: exp overflows without the stabiliser
  in.f = in.f * 20.0;
  auto [h, s] = mlstm_chunkwise(in.q, in.k, in.v, in.i, in.f, {}, 64);
  EXPECT_TRUE(torch::isfinite(h).all().item<bool>());
  EXPECT_TRUE(torch::isfinite(s.C).all().item<bool>());
}

TEST(MlstmBackends, Bfloat16InputsKeepFp32States) {
  torch::manual_seed(6);
  auto in = random_mlstm_inputs(2, 2, 130, 16, 16);
  auto bf = [](const torch::Tensor& x) { return x.to(torch::kBFloat16); };
  auto [h, s] = mlstm_chunkwise(in.q, in.k, in.v, in.i, in.f, {}, 64);
  auto [hb, sb] = mlstm_chunkwise(bf(in.q), bf(in.k), bf(in.v), in.i, in.f, {}, 64);
  EXPECT_EQ(hb.scalar_type(), torch::kBFloat16);
  for (const auto& t : {sb.C, sb.n, sb.m}) EXPECT_EQ(t.scalar_type(), torch::kFloat32);
  XLSTM_EXPECT_CLOSE(hb, h, 2e-2);
  XLSTM_EXPECT_CLOSE(sb.C, s.C, 2e-2);
}

TEST(MlstmBackends, GradientsMatchFiniteDifferences) {
  torch::manual_seed(5);
  auto in = random_mlstm_inputs(1, 2, 6, 3, 2, false, torch::kFloat64);
  auto s0 = random_mlstm_state(1, 2, 3, 2);
  std::vector<torch::Tensor> with_state{in.q, in.k, in.v, in.i, in.f, s0.C.to(torch::kFloat64),
                                        s0.n.to(torch::kFloat64), s0.m.to(torch::kFloat64)};
  for (int64_t chunk : {2, 4, 6}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    testing::expect_gradients_match_finite_differences(
        [chunk](const std::vector<torch::Tensor>& x) {
          auto [h, s] = mlstm_chunkwise(x[0], x[1], x[2], x[3], x[4], {x[5], x[6], x[7]}, chunk);
          return testing::random_projection(torch::cat({h.flatten(), s.C.flatten(), s.n.flatten(), s.m.flatten()}), 7);
        },
        with_state);
  }
  std::vector<torch::Tensor> fresh{in.q, in.k, in.v, in.i, in.f};
  testing::expect_gradients_match_finite_differences(
      [](const std::vector<torch::Tensor>& x) {
        return testing::random_projection(std::get<0>(mlstm_chunkwise(x[0], x[1], x[2], x[3], x[4], {}, 4)), 8);
      },
      fresh);
  testing::expect_gradients_match_finite_differences(
      [](const std::vector<torch::Tensor>& x) {
        return testing::random_projection(std::get<0>(mlstm_recurrent(x[0], x[1], x[2], x[3], x[4], {})), 9);
      },
      fresh);
}

TEST(MlstmBackends, RejectsMismatchedShapes) {
  auto in = random_mlstm_inputs(2, 2, 5, 4, 4);
  EXPECT_THROW(mlstm_parallel(in.q, in.k.narrow(3, 0, 3), in.v, in.i, in.f), c10::Error);
  EXPECT_THROW(mlstm_parallel(in.q, in.k, in.v, in.i.narrow(2, 0, 4), in.f), c10::Error);
  EXPECT_THROW(mlstm_chunkwise(in.q, in.k, in.v, in.i, in.f, random_mlstm_state(3, 2, 4, 4)), c10::Error);
  EXPECT_THROW(mlstm_chunkwise(in.q, in.k, in.v, in.i, in.f, {}, 0), c10::Error);
}

}  // namespace
}  // namespace xlstm
