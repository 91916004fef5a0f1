// The sLSTM ops on the CPU (the ATen loop behind the dispatcher): the forward is the reference, the
// gradients through the op's autograd kernel (slstm_bw recomputing the loop) equal autograd through the
// reference itself, and bad arguments are rejected with messages naming them.
#include "testing.h"
#include "xlstm/ops.h"
#include "xlstm/slstm/slstm_reference.h"

namespace xlstm {
namespace {

struct Args {
  torch::Tensor wx, R, b, s0;
};

Args random_args(int64_t B, int64_t S, int64_t NH, int64_t DH, bool init) {
  Args a;
  a.wx = torch::randn({B, S, NH, 4, DH}, torch::kFloat64) * 3.0;
  a.R = torch::randn({NH, DH, 4 * DH}, torch::kFloat64) / std::sqrt(static_cast<double>(DH));
  a.b = torch::randn({4 * NH * DH}, torch::kFloat64);
  if (init) a.s0 = torch::cat({torch::randn({2, B, NH * DH}, torch::kFloat64), torch::rand({1, B, NH * DH}, torch::kFloat64) + 0.5,
                               torch::randn({1, B, NH * DH}, torch::kFloat64)});
  return a;
}

TEST(SlstmOps, CpuForwardIsTheReference) {
  const auto a = random_args(2, 6, 3, 8, true);
  auto [y, last, gates, states] = ops::slstm_fw(a.wx, a.R, a.b, a.s0);
  auto [y_ref, last_ref] = slstm_forward_reference(a.wx, a.R, a.b, a.s0);
  EXPECT_TRUE(torch::equal(y, y_ref));
  EXPECT_TRUE(torch::equal(last, last_ref));
  EXPECT_EQ(gates.numel(), 0);
  EXPECT_EQ(states.numel(), 0);
}

TEST(SlstmOps, CpuGradientsThroughTheOpMatchAutogradOfTheReference) {
  for (const bool init : {false, true}) {
    SCOPED_TRACE(init ? "with s0" : "without s0");
    const auto a = random_args(2, 5, 2, 4, init);
    const auto gy = torch::randn({2, 5, 2, 4}, torch::kFloat64), gs = torch::randn({4, 2, 8}, torch::kFloat64);
    std::vector<std::vector<torch::Tensor>> grads;
    for (const bool through_op : {true, false}) {
      std::vector<torch::Tensor> leaves;
      for (const auto& t : {a.wx, a.R, a.b, a.s0})
        if (t.defined()) leaves.push_back(t.clone().requires_grad_(true));
      const auto s0 = init ? leaves[3] : torch::Tensor();
      auto [y, last] = through_op ? ops::slstm(leaves[0], leaves[1], leaves[2], s0)
                                  : slstm_forward_reference(leaves[0], leaves[1], leaves[2], s0);
      grads.push_back(torch::autograd::grad({(y * gy).sum() + (last * gs).sum()}, leaves));
    }
    for (size_t k = 0; k < grads[0].size(); ++k) XLSTM_EXPECT_CLOSE(grads[0][k], grads[1][k], 1e-12);
  }
}

TEST(SlstmOps, RejectsBadArguments) {
  const auto a = random_args(2, 3, 2, 4, true);
  const auto fails = [](const std::function<void()>& f, const std::string& needle) {
    try {
      f();
      ADD_FAILURE() << "no error for " << needle;
    } catch (const c10::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  fails([&] { ops::slstm_fw(a.wx.select(3, 0), a.R, a.b); }, "wx must be (B, S, NH, 4, DH)");
  fails([&] { ops::slstm_fw(a.wx, a.R.narrow(2, 0, 8), a.b); }, "R must be (NH, DH, 4*DH) = (2, 4, 16)");
  fails([&] { ops::slstm_fw(a.wx, a.R, a.b.narrow(0, 0, 5)); }, "b must be (4*NH*DH) = (32)");
  fails([&] { ops::slstm_fw(a.wx, a.R, a.b, a.s0.narrow(1, 0, 1)); }, "s0 must be (4, B, NH*DH) = (4, 2, 8)");
  fails([&] { ops::slstm_fw(a.wx.to(torch::kLong), a.R, a.b); }, "wx must be a floating-point tensor");
  fails([&] { ops::slstm_fw(a.wx.narrow(1, 0, 0), a.R, a.b); }, "wx must have B, S, NH, DH >= 1");
  auto [y, last, gates, states] = ops::slstm_fw(a.wx, a.R, a.b, a.s0);
  fails([&] { ops::slstm_bw(y.narrow(1, 0, 1), std::nullopt, a.wx, a.R, a.b, a.s0, y, gates, states); },
        "dy must be (B, S, NH, DH) = [2, 3, 2, 4]");
  fails([&] { ops::slstm_bw(y, last.narrow(0, 0, 3), a.wx, a.R, a.b, a.s0, y, gates, states); },
        "dstate_last must be (4, B, NH*DH)");
}

}  // namespace
}  // namespace xlstm
