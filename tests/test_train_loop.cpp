// The training library: learning-rate schedule, AdamW's weight-decay groups, the masked loss, batches
// trimmed to their last target, gradient clipping, autocast, metrics, the progress line, and checkpoint + resume continuing exactly
// as an uninterrupted run.
#include <gtest/gtest.h>

#include <ATen/autocast_mode.h>

#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

#include "temp_dir.h"
#include "xlstm/data/formal_language_dataset.h"
#include "xlstm/io/checkpoint.h"
#include "xlstm/train/autocast.h"
#include "xlstm/train/lr_schedule.h"
#include "xlstm/train/optimizer.h"
#include "xlstm/train/progress.h"
#include "xlstm/train/step.h"
#include "xlstm/train/trainer.h"

namespace {

using namespace xlstm;
using namespace xlstm::train;

xLSTMLMModel tiny_model(uint64_t seed) {
  torch::manual_seed(seed);
  xLSTMLMModel model(from_yaml<xLSTMLMModelConfig>(
      "vocab_size: 3\ncontext_length: 11\nnum_blocks: 2\nembedding_dim: 16\n"
      "mlstm_block: {mlstm: {num_heads: 2}}\nslstm_block: {slstm: {num_heads: 2}}\nslstm_at: [1]\n"));
  model->reset_parameters();
  return model;
}

std::vector<data::NamedDataset> tiny_parity() {
  data::FormLangDatasetConfig c;
  c.context_length = 12;
  c.min_sequence_length = 3;
  c.max_sequence_length = 8;
  c.enable_mask = true;
  c.count = {64, 16, 0};
  c.validate();
  return data::form_lang_splits(c);
}

TrainingConfig tiny_training() {
  TrainingConfig c;
  c.batch_size = 8;
  c.lr = 3e-3;
  c.lr_warmup_steps = 2;
  c.num_steps = 6;
  c.lr_decay_until_steps = 6;
  c.val_every_step = 0;
  c.log_every_step = 1;
  c.device = "cpu";
  c.enable_mixed_precision = false;
  return c;
}

TEST(TrainLoop, ScheduleWarmsUpThenFollowsTheCosineToTheFloor) {
  const LinearWarmupCosineAnnealing s{10, 110, 1.0, 0.01};
  EXPECT_DOUBLE_EQ(s.lr_at(0), 0.0) << "the first step has learning rate 0, as in the reference";
  EXPECT_DOUBLE_EQ(s.lr_at(5), 0.5);
  EXPECT_DOUBLE_EQ(s.lr_at(10), 1.0);
  EXPECT_NEAR(s.lr_at(60), 0.505, 1e-12);                                          // half-way: the mean
  EXPECT_NEAR(s.lr_at(35), 0.01 + 0.5 * (1 + std::cos(M_PI * 0.25)) * 0.99, 1e-12);  // a quarter
  EXPECT_DOUBLE_EQ(s.lr_at(110), 0.01);
  EXPECT_DOUBLE_EQ(s.lr_at(5000), 0.01);
  const LinearWarmupCosineAnnealing no_warmup{0, 4, 2.0, 0.0};
  EXPECT_DOUBLE_EQ(no_warmup.lr_at(0), 2.0);
  EXPECT_NEAR(no_warmup.lr_at(2), 1.0, 1e-12);
}

TEST(TrainLoop, AdamWGroupsDecayWeightsOnly) {
  auto model = tiny_model(0);
  TrainingConfig c = tiny_training();
  c.weight_decay = 0.1;
  auto optimizer = make_adamw(*model, c, /*weight_decay_on_embedding=*/false);
  ASSERT_EQ(optimizer->param_groups().size(), 2u);
  const auto& decay = optimizer->param_groups()[0];
  const auto& no_decay = optimizer->param_groups()[1];
  EXPECT_DOUBLE_EQ(static_cast<const torch::optim::AdamWOptions&>(decay.options()).weight_decay(), 0.1);
  EXPECT_DOUBLE_EQ(static_cast<const torch::optim::AdamWOptions&>(no_decay.options()).weight_decay(), 0.0);
  const auto groups = weight_decay_param_groups(*model, false);
  EXPECT_EQ(decay.params().size(), groups.decay.size());
  EXPECT_EQ(no_decay.params().size(), groups.no_decay.size());
  EXPECT_EQ(decay.params().size() + no_decay.params().size(), model->parameters().size());

  // With zero gradients AdamW's update is the decay alone: p <- p (1 - lr wd) in group 0, unchanged in 1.
  std::vector<torch::Tensor> before_decay, before_no_decay;
  for (const auto& p : decay.params()) before_decay.push_back(p.detach().clone());
  for (const auto& p : no_decay.params()) before_no_decay.push_back(p.detach().clone());
  for (const auto& p : model->parameters()) p.mutable_grad() = torch::zeros_like(p);
  set_learning_rate(*optimizer, 0.5);
  optimizer->step();
  for (size_t i = 0; i < before_decay.size(); ++i)
    EXPECT_TRUE(torch::allclose(decay.params()[i], before_decay[i] * 0.95, 1e-6, 1e-7));
  for (size_t i = 0; i < before_no_decay.size(); ++i) EXPECT_TRUE(torch::equal(no_decay.params()[i], before_no_decay[i]));
}

TEST(TrainLoop, MaskedLossCountsOnlyTargets) {
  // Two positions count (targets 2 and 0), one is ignored.
  const auto logits = torch::tensor({{{0.0, 0.0, 3.0}, {5.0, 0.0, 0.0}, {0.0, 9.0, 0.0}}});
  const auto targets = torch::tensor({{2, -1, 1}}, torch::kLong);
  const MaskedLoss l = masked_loss(logits, targets, -1);
  EXPECT_EQ(l.count.item<int64_t>(), 2);
  EXPECT_EQ(l.correct.item<int64_t>(), 2);
  const double expected = (std::log(2 + std::exp(3.0)) - 3.0 + std::log(2 + std::exp(9.0)) - 9.0) / 2;
  EXPECT_NEAR(l.loss.item<double>(), expected, 1e-6);
  const MaskedLoss wrong = masked_loss(logits, torch::tensor({{0, -1, 1}}, torch::kLong), -1);
  EXPECT_EQ(wrong.correct.item<int64_t>(), 1);
}

TEST(TrainLoop, AStepThatCannotBeTakenChangesNothing) {
  // A batch without a target, then an infinite head weight (a loss that is not finite): each step
  // throws, with the parameters and AdamW's state as they were.
  const auto splits = tiny_parity();
  const int64_t ignore = splits[0].data->ignore_index();
  auto model = tiny_model(4);
  auto trainable = train::trainable(model);
  auto optimizer = make_adamw(*model, tiny_training(), false);
  data::Batch batch = data::make_batch(*splits[0].data, 0, 4);
  train_step(trainable, *optimizer, batch, StepOptions{1e-2, 1.0, std::nullopt, ignore});  // AdamW state exists
  const auto snapshot = [&] {
    std::vector<torch::Tensor> out;
    for (const auto& p : model->parameters()) out.push_back(p.detach().clone());
    for (const auto& [key, state] : optimizer->state())
      out.push_back(static_cast<torch::optim::AdamWParamState&>(*state).exp_avg().clone());
    return out;
  };
  const auto steps = [&] {
    int64_t sum = 0;
    for (const auto& [key, state] : optimizer->state()) sum += static_cast<torch::optim::AdamWParamState&>(*state).step();
    return sum;
  };
  const auto expect_unchanged = [&](const std::vector<torch::Tensor>& before, int64_t steps_before) {
    const auto after = snapshot();
    ASSERT_EQ(after.size(), before.size());
    for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(after[i], before[i])) << i;
    EXPECT_EQ(steps(), steps_before);
  };
  auto before = snapshot();
  int64_t steps_before = steps();
  data::Batch no_target{batch.inputs, torch::full_like(batch.targets, ignore)};
  EXPECT_THROW(
      {
        try {
          train_step(trainable, *optimizer, no_target, StepOptions{1e-2, 1.0, std::nullopt, ignore});
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("no target"), std::string::npos) << e.what();
          throw;
        }
      },
      std::runtime_error);
  expect_unchanged(before, steps_before);
  {
    torch::NoGradGuard no_grad;
    model->lm_head->weight.view(-1)[0].fill_(INFINITY);
  }
  before = snapshot();
  EXPECT_THROW(train_step(trainable, *optimizer, batch, StepOptions{1e-2, 1.0, std::nullopt, ignore}), std::runtime_error);
  expect_unchanged(before, steps_before);
}

TEST(TrainLoop, TrimToLastTargetDropsOnlyTargetlessTails) {
  const auto inputs = torch::arange(24, torch::kLong).view({3, 8});
  auto targets = torch::full({3, 8}, -1, torch::kLong);
  targets.index_put_({0, 1}, 0);
  targets.index_put_({1, 4}, 2);
  const auto trimmed = data::trim_to_last_target({inputs, targets}, -1);
  EXPECT_EQ(trimmed.inputs.sizes(), (std::vector<int64_t>{3, 5}));
  EXPECT_TRUE(trimmed.inputs.equal(inputs.narrow(1, 0, 5)));
  EXPECT_TRUE(trimmed.targets.equal(targets.narrow(1, 0, 5)));
  targets.index_put_({2, 7}, 1);
  EXPECT_EQ(data::trim_to_last_target({inputs, targets}, -1).inputs.data_ptr(), inputs.data_ptr())
      << "the last position has a target: the batch as it is";
  EXPECT_EQ(data::trim_to_last_target({inputs, torch::full({3, 8}, -1, torch::kLong)}, -1).inputs.size(1), 1);
}

TEST(TrainLoop, TrimmedBatchesGiveTheSameLossAndGradients) {
  // Parity examples of lengths 3-8 padded to 11 positions: the answers sit within the first 8.
  const auto splits = tiny_parity();
  const int64_t ignore = splits[0].data->ignore_index();
  const auto batch = data::make_batch(*splits[0].data, 0, 16);
  const auto trimmed = data::trim_to_last_target(batch, ignore);
  ASSERT_LT(trimmed.inputs.size(1), batch.inputs.size(1));
  std::vector<torch::Tensor> grads[2];
  double loss[2];
  for (int t = 0; t < 2; ++t) {
    auto model = tiny_model(5);
    const data::Batch& b = t ? trimmed : batch;
    const MaskedLoss l = masked_loss(std::get<0>(model->forward(b.inputs)), b.targets, ignore);
    l.loss.backward();
    loss[t] = l.loss.item<double>();
    for (const auto& p : model->parameters()) grads[t].push_back(p.grad().defined() ? p.grad() : torch::zeros_like(p));
  }
  EXPECT_NEAR(loss[1], loss[0], 1e-6);
  for (size_t i = 0; i < grads[0].size(); ++i) {
    const double scale = std::max(1e-6, grads[0][i].norm().item<double>());
    EXPECT_LE((grads[1][i] - grads[0][i]).norm().item<double>() / scale, 1e-5) << "parameter " << i;
  }
}

double total_grad_norm(torch::nn::Module& module) {
  double sum = 0;
  for (const auto& p : module.parameters())
    if (p.grad().defined()) sum += p.grad().pow(2).sum().item<double>();
  return std::sqrt(sum);
}

TEST(TrainLoop, ClippingScalesTheGradientToTheLimit) {
  const auto splits = tiny_parity();
  const auto batch = data::make_batch(*splits[0].data, 0, 8);
  for (const bool clip : {false, true}) {
    auto model = tiny_model(1);
    auto trainable_model = trainable(model);
    auto optimizer = make_adamw(*model, tiny_training(), false);
    StepOptions options{1e-3, std::nullopt, std::nullopt, -1};
    if (clip) options.clip_norm = 1e-3;
    const StepStats stats = train_step(trainable_model, *optimizer, batch, options);
    EXPECT_GT(stats.grad_norm, 1e-2);
    EXPECT_NEAR(total_grad_norm(*model), clip ? 1e-3 : stats.grad_norm, clip ? 1e-6 : 1e-5 * stats.grad_norm);
    EXPECT_EQ(stats.count, 8) << "one answer per sequence";
  }
}

TEST(TrainLoop, AutocastRunsTheForwardInBfloat16AndRestoresTheState) {
  const auto splits = tiny_parity();
  const auto batch = data::make_batch(*splits[0].data, 0, 8);
  double losses[2];
  for (const bool amp : {false, true}) {
    auto model = tiny_model(2);
    auto trainable_model = trainable(model);
    auto optimizer = make_adamw(*model, tiny_training(), false);
    StepOptions options{0.0, std::nullopt, std::nullopt, -1};
    if (amp) options.amp_dtype = torch::kBFloat16;
    losses[amp] = train_step(trainable_model, *optimizer, batch, options).loss;
    EXPECT_FALSE(at::autocast::is_autocast_enabled(at::kCPU));
    for (const auto& p : model->parameters()) EXPECT_EQ(p.dtype(), torch::kFloat32) << "fp32 master weights";
  }
  EXPECT_NE(losses[0], losses[1]) << "bf16 matmuls change the loss";
  EXPECT_NEAR(losses[0], losses[1], 0.02);
  {
    AutocastGuard guard(torch::kCPU, torch::kBFloat16);
    EXPECT_TRUE(at::autocast::is_autocast_enabled(at::kCPU));
    const auto y = torch::matmul(torch::randn({4, 4}), torch::randn({4, 4}));
    EXPECT_EQ(y.dtype(), torch::kBFloat16);
  }
  EXPECT_FALSE(at::autocast::is_autocast_enabled(at::kCPU));
}

TEST(TrainLoop, ProgressLineFormatting) {
  EXPECT_EQ(format_duration(45), "45s");
  EXPECT_EQ(format_duration(750), "12m30s");
  EXPECT_EQ(format_duration(7500), "2h05m");
  const std::string line = format_progress({1200, 20000, 0.69314, 0.512, 6e-4, 45210.4, 750});
  EXPECT_EQ(line, "step 1200/20000 | loss 0.6931 | acc 0.5120 | lr 6.0e-04 | 45,210 tok/s | ETA 12m30s");
  std::ostringstream out;
  ProgressLine progress(out, /*interactive=*/true);
  progress.update({1, 2, 0.5, 0.5, 1e-3, 10, 1});
  progress.clear();
  EXPECT_EQ(out.str().rfind("\rstep 1/2 | ", 0), 0u);
  EXPECT_EQ(out.str().back(), '\r');
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A metrics line without its timing fields (tokens_per_s, elapsed_s), for comparing two runs.
std::string without_timing(const std::string& line) {
  return std::regex_replace(line, std::regex(R"re("(elapsed_s|tokens_per_s)":[-0-9.e+]+,?)re"), "");
}

TrainResult train_tiny(const std::string& dir, int64_t num_steps, bool resume, uint64_t model_seed,
                       const std::string& config_yaml = "tiny") {
  auto splits = tiny_parity();
  TrainingConfig config = tiny_training();
  config.num_steps = num_steps;
  config.checkpoint_every_step = 3;
  RunOptions options{dir, resume, false, config_yaml};
  std::ostringstream out;
  Trainer trainer(config, trainable(tiny_model(model_seed)), splits[0].data, {splits[1]}, {}, options, out);
  return trainer.run();
}

TEST(TrainLoop, ResumeContinuesExactly) {
  xlstm::testing::TempDir tmp;
  const std::string straight = tmp.file("straight"), resumed = tmp.file("resumed");
  const TrainResult a = train_tiny(straight, 6, false, 3);
  // The same run stopped after 3 steps, then resumed in a fresh process state with a differently
  // initialised model: the checkpoint must restore everything.
  train_tiny(resumed, 3, false, 3);
  const TrainResult b = train_tiny(resumed, 6, true, 99);
  EXPECT_EQ(b.resumed_from, 3);
  EXPECT_EQ(b.steps, 6);

  auto model_a = tiny_model(0), model_b = tiny_model(0);
  auto opt_a = make_adamw(*model_a, tiny_training(), false), opt_b = make_adamw(*model_b, tiny_training(), false);
  EXPECT_EQ(io::load_training_checkpoint(straight + "/checkpoint", *model_a, *opt_a).step, 6);
  EXPECT_EQ(io::load_training_checkpoint(resumed + "/checkpoint", *model_b, *opt_b).step, 6);
  const auto pa = model_a->named_parameters(), pb = model_b->named_parameters();
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();

  const auto la = lines_of(straight + "/metrics.jsonl");
  auto lb = lines_of(resumed + "/metrics.jsonl");
  ASSERT_EQ(la.size(), 7u) << "6 train records and the final validation";
  // The resumed log also keeps the validation that ended the first part (step 3).
  ASSERT_EQ(lb.size(), 8u);
  EXPECT_NE(lb[3].find(R"("split":"validation","step":3)"), std::string::npos) << lb[3];
  lb.erase(lb.begin() + 3);
  for (size_t i = 0; i < la.size(); ++i) EXPECT_EQ(without_timing(la[i]), without_timing(lb[i]));
  EXPECT_NE(la[0].find(R"("split":"train")"), std::string::npos);
  EXPECT_NE(la[0].find(R"("lr":0.0)"), std::string::npos);
  EXPECT_NE(la.back().find(R"("split":"validation")"), std::string::npos);
  EXPECT_NE(la.back().find(R"("rescaled_accuracy":)"), std::string::npos);
  ASSERT_EQ(a.final_results.size(), 1u);
  EXPECT_EQ(a.final_results[0].accuracy, b.final_results[0].accuracy);
  EXPECT_EQ(a.final_results[0].loss, b.final_results[0].loss);
}

TEST(TrainLoop, ResumeRefusesAnotherConfigAndAFreshRunRefusesAnOldFolder) {
  xlstm::testing::TempDir tmp;
  const std::string dir = tmp.file("run");
  train_tiny(dir, 3, false, 3, "a: 1\nb: 2\n");
  try {
    train_tiny(dir, 6, true, 3, "a: 1\nb: 3\n");
    FAIL() << "resumed with another config";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("was written for another config (line 2: `b: 3` here, `b: 2` in the checkpoint)"),
              std::string::npos)
        << e.what();
  }
  try {
    train_tiny(dir, 3, false, 3, "a: 1\nb: 2\n");
    FAIL() << "a fresh run overwrote an earlier one";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("holds an earlier run"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resolve_device("tpu"), std::runtime_error);
  if (!torch::cuda::is_available()) {
    EXPECT_THROW(resolve_device("cuda"), std::runtime_error);
    EXPECT_TRUE(resolve_device("auto").is_cpu());
  }
}

}  // namespace
