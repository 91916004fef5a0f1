// The fused AdamW step and the multi-tensor gradient clipping of the training step
// (xlstm/train/fused_adamw.h) against torch::optim::AdamW's own step and
// torch::nn::utils::clip_grad_norm_: the same parameters and state over several steps, either step
// continuing the other's state, parameters without a gradient left alone, a step dropped on the device
// (found_inf) and its count taken back, amsgrad falling back.
#include <functional>

#include "testing.h"
#include "xlstm/train/fused_adamw.h"

namespace xlstm::train {
namespace {

struct AdamWSetup {
  std::vector<torch::Tensor> decay, no_decay;
  std::unique_ptr<torch::optim::AdamW> optimizer;
};

AdamWSetup make_setup(bool amsgrad = false) {
  torch::manual_seed(1);
  AdamWSetup s;
  for (int i = 0; i < 3; ++i) s.decay.push_back(torch::randn({7, 5}).requires_grad_(true));
  for (int i = 0; i < 2; ++i) s.no_decay.push_back(torch::randn({5}).requires_grad_(true));
  const auto options = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(3e-2).betas({0.8, 0.95}).eps(1e-6).weight_decay(wd).amsgrad(amsgrad));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(s.decay, options(0.1));
  groups.emplace_back(s.no_decay, options(0.0));
  s.optimizer = std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(3e-2));
  return s;
}

// Gradients of step k, the same for every setup; the last no-decay parameter gets none.
void set_grads(AdamWSetup& s, int k) {
  torch::manual_seed(100 + k);
  for (auto& p : s.decay) p.mutable_grad() = torch::randn_like(p);
  s.no_decay[0].mutable_grad() = torch::randn_like(s.no_decay[0]);
}

// `steps` steps on the same gradients: `own` by the optimizer's own step, `other` by other_step(k).
void run_steps(AdamWSetup& own, AdamWSetup& other, int steps, const std::function<void(int)>& other_step) {
  for (int k = 0; k < steps; ++k) {
    set_grads(own, k);
    set_grads(other, k);
    own.optimizer->step();
    other_step(k);
  }
}

void expect_same_params(const AdamWSetup& a, const AdamWSetup& b) {
  for (size_t i = 0; i < a.decay.size(); ++i) XLSTM_EXPECT_CLOSE(b.decay[i], a.decay[i], 1e-6);
  for (size_t i = 0; i < a.no_decay.size(); ++i) XLSTM_EXPECT_CLOSE(b.no_decay[i], a.no_decay[i], 1e-6);
}

TEST(FusedAdamW, MatchesTheOptimizersOwnStep) {
  AdamWSetup own = make_setup(), fused = make_setup();
  const auto untouched = fused.no_decay[1].detach().clone();
  run_steps(own, fused, 6, [&](int) { fused_adamw_step(*fused.optimizer); });
  expect_same_params(own, fused);
  for (const auto& p : own.decay) {
    const auto& a = static_cast<torch::optim::AdamWParamState&>(*own.optimizer->state().at(p.unsafeGetTensorImpl()));
    const auto& b = static_cast<torch::optim::AdamWParamState&>(
        *fused.optimizer->state().at(fused.decay[&p - own.decay.data()].unsafeGetTensorImpl()));
    EXPECT_EQ(b.step(), a.step());
    XLSTM_EXPECT_CLOSE(b.exp_avg(), a.exp_avg(), 1e-6);
    XLSTM_EXPECT_CLOSE(b.exp_avg_sq(), a.exp_avg_sq(), 1e-6);
  }
  EXPECT_TRUE(torch::equal(fused.no_decay[1], untouched)) << "no gradient, no update";
  EXPECT_EQ(fused.optimizer->state().count(fused.no_decay[1].unsafeGetTensorImpl()), 0u) << "and no state";
}

TEST(FusedAdamW, EitherStepContinuesTheOther) {
  AdamWSetup own = make_setup(), mixed = make_setup();
  run_steps(own, mixed, 6, [&](int k) {
    if (k < 2 || k == 5) {
      mixed.optimizer->step();
    } else {
      fused_adamw_step(*mixed.optimizer);
    }
  });
  expect_same_params(own, mixed);
}

TEST(FusedAdamW, FoundInfDropsTheUpdateAndRewindTakesTheStepBack) {
  AdamWSetup own = make_setup(), fused = make_setup();
  run_steps(own, fused, 2, [&](int) { fused_adamw_step(*fused.optimizer); });
  set_grads(fused, 2);
  const auto& state = static_cast<torch::optim::AdamWParamState&>(
      *fused.optimizer->state().at(fused.decay[0].unsafeGetTensorImpl()));
  const auto param = fused.decay[0].detach().clone(), exp_avg = state.exp_avg().clone(),
             exp_avg_sq = state.exp_avg_sq().clone();
  fused_adamw_step(*fused.optimizer, torch::ones({1}));
  EXPECT_TRUE(torch::equal(fused.decay[0], param));
  EXPECT_TRUE(torch::equal(state.exp_avg(), exp_avg));
  EXPECT_TRUE(torch::equal(state.exp_avg_sq(), exp_avg_sq));
  EXPECT_EQ(state.step(), 3) << "the host's count advances with the launch";
  rewind_adamw_step(*fused.optimizer);
  EXPECT_EQ(state.step(), 2);
  // found_inf 0: the step of the optimizer's own
  run_steps(own, fused, 1, [&](int) { fused_adamw_step(*fused.optimizer, torch::zeros({1})); });
  expect_same_params(own, fused);
  EXPECT_FALSE(fused_adamw_applies(*make_setup(/*amsgrad=*/true).optimizer));
}

TEST(FusedAdamW, AmsgradFallsBackToTheOwnStep) {
  AdamWSetup own = make_setup(true), fused = make_setup(true);
  run_steps(own, fused, 3, [&](int) { fused_adamw_step(*fused.optimizer); });
  expect_same_params(own, fused);
}

TEST(FusedAdamW, ClipGradNormIsClipGradNorm) {
  for (const double max_norm : {0.5, 1e3}) {
    SCOPED_TRACE(max_norm);
    AdamWSetup a = make_setup(), b = make_setup();
    set_grads(a, 0);
    set_grads(b, 0);
    std::vector<torch::Tensor> params_a(a.decay), params_b(b.decay);
    params_a.push_back(a.no_decay[0]);
    params_b.push_back(b.no_decay[0]);
    params_b.push_back(b.no_decay[1]);  // without a gradient: skipped
    const double expected = torch::nn::utils::clip_grad_norm_(params_a, max_norm);
    EXPECT_NEAR(clip_grad_norm(params_b, max_norm).item<double>(), expected, 1e-6 * expected);
    for (size_t i = 0; i < params_a.size(); ++i) XLSTM_EXPECT_CLOSE(params_b[i].grad(), params_a[i].grad(), 1e-6);
  }
  AdamWSetup c = make_setup();
  set_grads(c, 0);
  const auto before = c.decay[0].grad().clone();
  const double norm = clip_grad_norm(c.decay, std::nullopt).item<double>();
  EXPECT_TRUE(torch::equal(c.decay[0].grad(), before)) << "no max_norm: the gradients stay";
  double sum = 0;
  for (const auto& p : c.decay) sum += p.grad().pow(2).sum().item<double>();
  EXPECT_NEAR(norm, std::sqrt(sum), 1e-5 * norm);
}

}  // namespace
}  // namespace xlstm::train
