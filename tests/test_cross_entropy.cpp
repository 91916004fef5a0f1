// xlstm::cross_entropy_rows{,_bw,_bw_}: the ATen implementation against torch's cross-entropy (losses,
// gradients, ignored rows, argmax), argument errors, the gradient written over the logits, and the
// training loss built on it; on a GPU the
// kernels against the reference in fp32, fp16 and bf16 for vocabularies from 1 to GPT-2's, strided
// rows, from NaN-poisoned memory.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "testing.h"
#include "xlstm/ops.h"
#include "xlstm/train/step.h"

namespace xlstm {
namespace {

namespace F = torch::nn::functional;
using testing::error_message;

struct Rows {
  torch::Tensor wide, logits, targets;  // logits: columns [1, 1 + vocab) of wide
};

// logits (rows, vocab) with row stride vocab + 3, every third target ignored.
Rows random_rows(int64_t rows, int64_t vocab, int64_t ignore_index, torch::Dtype dt) {
  Rows r;
  r.wide = (torch::randn({rows, vocab + 3}) * 6).to(dt);
  r.logits = r.wide.narrow(1, 1, vocab);
  r.targets = torch::randint(vocab, {rows}, torch::kLong);
  r.targets.index_put_({torch::arange(0, rows, 3)}, ignore_index);
  return r;
}

TEST(CrossEntropyRows, MatchesTorchCrossEntropy) {
  torch::manual_seed(0);
  for (const int64_t ignore : {-1, -100}) {
    for (const auto dt : {torch::kFloat32, torch::kFloat64}) {
      SCOPED_TRACE(std::string(c10::toString(dt)) + " ignore " + std::to_string(ignore));
      const auto in = random_rows(37, 11, ignore, dt);
      const auto logits = in.logits.detach().requires_grad_(true);
      const auto [loss, lse, predicted] = ops::cross_entropy_rows(logits, in.targets, ignore);
      const auto want = F::cross_entropy(in.logits, in.targets,
                                         F::CrossEntropyFuncOptions().ignore_index(ignore).reduction(torch::kNone));
      const double tol = dt == torch::kFloat64 ? 1e-12 : 1e-6;  // summation order
      XLSTM_EXPECT_CLOSE(loss, want, tol);
      const auto valid = in.targets.ne(ignore);
      XLSTM_EXPECT_CLOSE(lse, in.logits.logsumexp(-1).where(valid, 0), tol);
      EXPECT_TRUE(predicted.equal(in.logits.argmax(-1).where(valid, -1)));
      EXPECT_EQ(loss.scalar_type(), dt);
      EXPECT_FALSE(lse.requires_grad());

      const auto weights = torch::randn({37}, loss.options());
      const auto got = torch::autograd::grad({(loss * weights).sum()}, {logits})[0];
      const auto ref_logits = in.logits.detach().requires_grad_(true);
      const auto ref_loss = F::cross_entropy(
          ref_logits, in.targets, F::CrossEntropyFuncOptions().ignore_index(ignore).reduction(torch::kNone));
      const auto want_grad = torch::autograd::grad({(ref_loss * weights).sum()}, {ref_logits})[0];
      XLSTM_EXPECT_CLOSE(got, want_grad, tol);
    }
  }
}

TEST(CrossEntropyRows, ReducedPrecisionLogitsComputeInFp32) {
  torch::manual_seed(1);
  const auto in = random_rows(20, 50, -1, torch::kBFloat16);
  const auto [loss, lse, predicted] = ops::cross_entropy_rows(in.logits, in.targets, -1);
  EXPECT_EQ(loss.scalar_type(), torch::kFloat32);
  const auto want = F::cross_entropy(in.logits.to(torch::kFloat32), in.targets,
                                     F::CrossEntropyFuncOptions().ignore_index(-1).reduction(torch::kNone));
  XLSTM_EXPECT_CLOSE(loss, want, 1e-6);
  const auto dlogits = ops::cross_entropy_rows_bw(torch::ones({20}), in.logits, in.targets, lse, -1);
  EXPECT_EQ(dlogits.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(dlogits.is_contiguous());
  // Each valid row's gradient is softmax minus one-hot: it sums to zero; ignored rows are zero.
  const auto row_sums = dlogits.to(torch::kFloat32).sum(1);
  EXPECT_LT(row_sums.abs().max().item<float>(), 2e-2);
  EXPECT_EQ(dlogits.index({torch::arange(0, 20, 3)}).abs().sum().item<float>(), 0.f);
}

TEST(CrossEntropyRows, BadArgumentsAreNamed) {
  const auto logits = torch::randn({4, 5});
  const auto targets = torch::tensor({0, 1, 2, 3}, torch::kLong);
  EXPECT_NE(error_message([&] { ops::cross_entropy_rows(logits.unsqueeze(0), targets, -1); }).find("logits must be"),
            std::string::npos);
  EXPECT_NE(error_message([&] { ops::cross_entropy_rows(logits.to(torch::kInt), targets, -1); }).find("logits must"),
            std::string::npos);
  EXPECT_NE(error_message([&] { ops::cross_entropy_rows(logits.narrow(1, 0, 0), targets, -1); })
                .find("vocabulary of at least 1"),
            std::string::npos);
  EXPECT_NE(error_message([&] { ops::cross_entropy_rows(logits, targets.to(torch::kInt), -1); })
                .find("targets must be an int64 (4)"),
            std::string::npos);
  EXPECT_NE(error_message([&] { ops::cross_entropy_rows(logits, targets.narrow(0, 0, 3), -1); }).find("targets must"),
            std::string::npos);
  const auto bad = torch::tensor({0, 7, -1, 2}, torch::kLong);
  EXPECT_NE(error_message([&] { ops::cross_entropy_rows(logits, bad, -1); })
                .find("target 7 of row 1 is outside the vocabulary [0, 5)"),
            std::string::npos);
  EXPECT_EQ(error_message([&] { ops::cross_entropy_rows(logits, torch::tensor({0, 7, 1, 2}, torch::kLong), 7); }),
            "no error")
      << "7 is ignore_index";
  const auto lse = std::get<1>(ops::cross_entropy_rows(logits, targets, -1));
  EXPECT_NE(error_message([&] { ops::cross_entropy_rows_bw(torch::ones({3}), logits, targets, lse, -1); })
                .find("dloss must be a (4) Float tensor"),
            std::string::npos);
  EXPECT_NE(error_message([&] { ops::cross_entropy_rows_bw(torch::ones({4}), logits, targets, lse.to(torch::kDouble), -1); })
                .find("lse must"),
            std::string::npos);
}

TEST(CrossEntropyRows, EmptyBatchAndSingleClass) {
  const auto [loss, lse, predicted] =
      ops::cross_entropy_rows(torch::randn({3, 1}), torch::zeros({3}, torch::kLong), -100);
  EXPECT_EQ(loss.abs().max().item<float>(), 0.f);  // one class: probability 1
  EXPECT_TRUE(predicted.equal(torch::zeros({3}, torch::kLong)));
  const auto empty = ops::cross_entropy_rows(torch::randn({0, 4}), torch::zeros({0}, torch::kLong), -100);
  EXPECT_EQ(std::get<0>(empty).numel(), 0);
}

// ------------------------------------------------------------------------------------------ CUDA

// The gradient of sum(loss * weights) at x through logits = x * 2 (a non-leaf the op may overwrite),
// with and without grad_into_logits; also the logits afterwards.
struct GradRun {
  torch::Tensor grad, logits_after;
};
GradRun grad_through(const torch::Tensor& x_in, const torch::Tensor& targets, const torch::Tensor& weights,
                     bool into_logits, bool contiguous = true) {
  const auto x = x_in.detach().requires_grad_(true);
  auto logits = x * 2;
  if (!contiguous) logits = logits.t().contiguous().t();  // column-major: no in-place kernel
  const auto loss = std::get<0>(ops::cross_entropy_rows(logits, targets, -1, into_logits));
  const auto grad = torch::autograd::grad({(loss * weights.to(loss.scalar_type())).sum()}, {x})[0];
  return {grad, logits.detach()};
}

TEST(CrossEntropyRows, GradientIntoTheLogitsEqualsTheSeparateGradient) {
  torch::manual_seed(4);
  const auto in = random_rows(20, 13, -1, torch::kFloat32);
  const auto weights = torch::randn({20});
  for (const bool contiguous : {true, false}) {
    SCOPED_TRACE(contiguous ? "contiguous" : "column-major");
    const auto apart = grad_through(in.logits, in.targets, weights, false, contiguous);
    const auto into = grad_through(in.logits, in.targets, weights, true, contiguous);
    XLSTM_EXPECT_CLOSE(into.grad, apart.grad, 1e-7);
    EXPECT_TRUE(apart.logits_after.equal(in.logits * 2));  // untouched without the option
    XLSTM_EXPECT_CLOSE(into.logits_after * 2, into.grad, 1e-7);  // holds d(loss)/d(logits) with it
  }
}

TEST(CrossEntropyRows, SecondBackwardAfterTheGradientIntoTheLogitsFails) {
  const auto x = torch::randn({4, 6}).requires_grad_(true);
  const auto targets = torch::tensor({0, 1, 2, 3}, torch::kLong);
  const auto loss = std::get<0>(ops::cross_entropy_rows(x * 1.5, targets, -1, true)).sum();
  loss.backward({}, /*retain_graph=*/true);
  EXPECT_NE(testing::error_message([&] { loss.backward(); }).find("modified by an inplace operation"),
            std::string::npos);
}

class CudaCrossEntropy : public xlstm::testing::CudaTest {};

TEST_F(CudaCrossEntropy, KernelsMatchTheReference) {
  torch::manual_seed(2);
  for (const int64_t vocab : {1, 3, 31, 32, 33, 1000, 50304}) {
    for (const int64_t rows : {1, 7, 300}) {
      for (const auto dt : {torch::kFloat32, torch::kBFloat16, torch::kFloat16}) {
        SCOPED_TRACE("rows " + std::to_string(rows) + " vocab " + std::to_string(vocab) + " " + c10::toString(dt));
        const auto in = random_rows(rows, vocab, -100, dt);
        // The reference in fp64 on the CPU, from the values the kernels see.
        const auto ref_logits = in.logits.to(torch::kFloat64).requires_grad_(true);
        const auto [ref_loss, ref_lse, ref_predicted] = ops::cross_entropy_rows(ref_logits, in.targets, -100);
        const auto weights = torch::randn({rows}, torch::kFloat64);
        const auto ref_grad = torch::autograd::grad({(ref_loss * weights).sum()}, {ref_logits})[0];

        testing::poison_cuda_allocator(64 << 20);
        const auto logits = in.wide.to(torch::kCUDA).narrow(1, 1, vocab).requires_grad_(true);
        ASSERT_EQ(logits.stride(0), vocab + 3);
        const auto [loss, lse, predicted] = ops::cross_entropy_rows(logits, in.targets.to(torch::kCUDA), -100);
        EXPECT_EQ(loss.scalar_type(), torch::kFloat32);
        XLSTM_EXPECT_CLOSE(loss, ref_loss, 1e-5);
        XLSTM_EXPECT_CLOSE(lse, ref_lse, 1e-5);
        EXPECT_TRUE(predicted.cpu().equal(ref_predicted));
        const auto grad =
            torch::autograd::grad({(loss * weights.to(torch::kCUDA, torch::kFloat32)).sum()}, {logits})[0];
        EXPECT_EQ(grad.scalar_type(), dt);
        XLSTM_EXPECT_CLOSE(grad, ref_grad, dt == torch::kFloat32 ? 1e-5 : 1e-2);
      }
    }
  }
}

TEST_F(CudaCrossEntropy, GradientIntoTheLogitsEqualsTheSeparateGradient) {
  torch::manual_seed(5);
  for (const auto dt : {torch::kFloat32, torch::kBFloat16}) {
    SCOPED_TRACE(c10::toString(dt));
    const auto in = random_rows(300, 50304, -1, dt);
    const auto x = in.logits.to(torch::kCUDA), targets = in.targets.to(torch::kCUDA);
    const auto weights = torch::randn({300}, torch::kCUDA);
    for (const bool contiguous : {true, false}) {
      SCOPED_TRACE(contiguous ? "contiguous" : "column-major");
      const auto apart = grad_through(x, targets, weights, false, contiguous);
      const auto into = grad_through(x, targets, weights, true, contiguous);
      EXPECT_TRUE(into.grad.equal(apart.grad));
      EXPECT_TRUE(into.logits_after.equal(apart.grad / 2));
    }
  }
}

TEST_F(CudaCrossEntropy, TargetOutsideTheVocabularyGivesNaN) {
  const auto logits = torch::randn({3, 10}, torch::kCUDA);
  const auto targets = torch::tensor({1, 10, -1}, torch::kLong).to(torch::kCUDA);
  const auto loss = std::get<0>(ops::cross_entropy_rows(logits, targets, -100)).cpu();
  EXPECT_TRUE(std::isfinite(loss[0].item<float>()));
  EXPECT_TRUE(std::isnan(loss[1].item<float>()));
  EXPECT_TRUE(std::isnan(loss[2].item<float>()));
}

TEST_F(CudaCrossEntropy, TrainingLossMatchesTheCpu) {
  torch::manual_seed(3);
  const auto logits = (torch::randn({4, 9, 300}) * 4).to(torch::kBFloat16);
  auto targets = torch::randint(300, {4, 9}, torch::kLong);
  targets.index_put_({0}, -1);
  const auto cpu = train::masked_loss(logits, targets, -1);
  const auto gpu = train::masked_loss(logits.to(torch::kCUDA), targets.to(torch::kCUDA), -1);
  EXPECT_EQ(gpu.count.item<int64_t>(), cpu.count.item<int64_t>());
  EXPECT_EQ(gpu.correct.item<int64_t>(), cpu.correct.item<int64_t>());
  EXPECT_NEAR(gpu.loss.item<double>(), cpu.loss.item<double>(), 1e-5);
}

}  // namespace
}  // namespace xlstm
