// Activation checkpointing (xlstm/recompute.h, xLSTMBlockStack::recompute_blocks): the same outputs,
// gradients and states as the plain run, also with dropout (the random state is replayed) and under
// bf16 autocast (the recomputation runs under the first run's autocast state), for xLSTMLarge's blocks
// too; the graph holds one recompute node per block and nothing of the blocks' insides; the training
// config key turns it on.
#include <ATen/autocast_mode.h>

#include <string>
#include <vector>

#include "autograd_graph.h"
#include "large_testing.h"
#include "testing.h"
#include "xlstm/autocast_scope.h"
#include "xlstm/lm_model.h"
#include "xlstm/recompute.h"
#include "xlstm/train/experiment_config.h"

namespace xlstm {
namespace {

// The sLSTM backend "cuda" runs the fused kernels on CUDA tensors and the ATen loop on the CPU.
xLSTMLMModel small_lm(bool recompute, double dropout = 0.0) {
  torch::manual_seed(11);
  auto config = from_yaml<xLSTMLMModelConfig>(
      "vocab_size: 40\ncontext_length: 24\nnum_blocks: 3\nembedding_dim: 64\n"
      "mlstm_block: {mlstm: {num_heads: 2}}\nslstm_block: {slstm: {num_heads: 2, backend: cuda}}\nslstm_at: [1]\n"
      "dropout: " + std::to_string(dropout) + "\n");
  xLSTMLMModel model(config);
  model->reset_parameters();
  model->xlstm_block_stack->recompute_blocks = recompute;
  return model;
}

struct PassResult {
  torch::Tensor logits;
  std::vector<torch::Tensor> grads;
  xLSTMStackState state;
};

PassResult train_pass(xLSTMLMModel& model, bool autocast) {
  torch::manual_seed(3);  // the dropout masks
  const auto ids = torch::randint(0, 40, {3, 24}, torch::kLong);
  PassResult r;
  {
    std::optional<AutocastScope> scope;
    if (autocast) scope.emplace(c10::DeviceType::CPU, true, at::kBFloat16);
    std::tie(r.logits, r.state) = model->forward(ids);
  }
  r.logits.to(torch::kFloat32).pow(2).mean().backward();
  for (const auto& p : model->parameters()) r.grads.push_back(p.grad().clone());
  return r;
}

using testing::graph_count;
using testing::graph_has;

void expect_same(const PassResult& plain, const PassResult& recomputed, double tol) {
  XLSTM_EXPECT_CLOSE(recomputed.logits, plain.logits, tol);
  ASSERT_EQ(recomputed.grads.size(), plain.grads.size());
  for (size_t i = 0; i < plain.grads.size(); ++i) {
    SCOPED_TRACE("parameter " + std::to_string(i));
    XLSTM_EXPECT_CLOSE(recomputed.grads[i], plain.grads[i], tol);
  }
}

TEST(Recompute, BlocksGiveThePlainGradientsAndStates) {
  auto plain = small_lm(false), recomputed = small_lm(true);
  const PassResult a = train_pass(plain, false), b = train_pass(recomputed, false);
  EXPECT_FALSE(graph_has(a.logits, "xlstm::RecomputeBackward"));
  EXPECT_TRUE(graph_has(b.logits, "xlstm::RecomputeBackward"));
  expect_same(a, b, 1e-6);
  ASSERT_EQ(b.state.size(), a.state.size());
  XLSTM_EXPECT_CLOSE(b.state[0].mlstm.cell.C, a.state[0].mlstm.cell.C, 1e-6);
  XLSTM_EXPECT_CLOSE(b.state[1].slstm.slstm, a.state[1].slstm.slstm, 1e-6);
  EXPECT_FALSE(b.state[0].mlstm.cell.C.requires_grad()) << "the states of the gradient-free first run";
}

TEST(Recompute, TheFirstBlocksOnlyWhenCounted) {
  auto plain = small_lm(false);
  const PassResult a = train_pass(plain, false);
  for (const int64_t count : {0, 2, 5}) {
    SCOPED_TRACE("recompute_count " + std::to_string(count));
    auto partial = small_lm(true);
    partial->xlstm_block_stack->recompute_count = count;
    const PassResult b = train_pass(partial, false);
    EXPECT_EQ(graph_count(b.logits, "xlstm::RecomputeBackward"), std::min<int64_t>(count, 3));
    expect_same(a, b, 1e-6);
  }
}

TEST(Recompute, DropoutMasksAreReplayed) {
  auto plain = small_lm(false, 0.3), recomputed = small_lm(true, 0.3);
  const PassResult a = train_pass(plain, false), b = train_pass(recomputed, false);
  expect_same(a, b, 1e-6);
  // The generator ends where the plain run leaves it: the next draw is the same.
  torch::manual_seed(3);
  const auto after_plain = (train_pass(plain, false), torch::rand({4}));
  const auto after_recomputed = (train_pass(recomputed, false), torch::rand({4}));
  EXPECT_TRUE(torch::equal(after_plain, after_recomputed));
}

TEST(Recompute, RecomputationRunsUnderTheFirstRunsAutocast) {
  auto plain = small_lm(false), recomputed = small_lm(true);
  const PassResult a = train_pass(plain, true), b = train_pass(recomputed, true);
  EXPECT_EQ(a.logits.scalar_type(), torch::kBFloat16);
  // An fp32 recomputation would move the gradients by bf16's rounding (~1e-2); the same bf16 graph
  // gives the same values up to the order of the accumulations.
  expect_same(a, b, 1e-4);
  EXPECT_FALSE(at::autocast::is_autocast_enabled(at::kCPU));
}

TEST(Recompute, TheGraphHoldsOneNodePerBlock) {
  auto model = small_lm(true);
  const auto x = torch::randn({2, 5, 64}, torch::requires_grad());
  auto [y, state] = model->xlstm_block_stack->forward(x);
  // y = post_blocks_norm(block2(block1(block0(x)))): below the norm's nodes, three recompute nodes in a row.
  auto node = y.grad_fn();
  while (node && node->name() != "xlstm::RecomputeBackward") node = node->next_edge(0).function;
  for (int block = 2; block >= 0; --block) {
    ASSERT_TRUE(node) << "block " << block;
    EXPECT_EQ(node->name(), "xlstm::RecomputeBackward") << "block " << block;
    ASSERT_EQ(node->num_outputs(), 1u);
    node = node->next_edge(0).function;
  }
  EXPECT_EQ(node->name(), "torch::autograd::AccumulateGrad") << "x's gradient sink";
  y.sum().backward();
  auto plain = small_lm(false);
  const auto x2 = x.detach().clone().requires_grad_(true);
  std::get<0>(plain->xlstm_block_stack->forward(x2)).sum().backward();
  XLSTM_EXPECT_CLOSE(x.grad(), x2.grad(), 1e-6);
}

// On the GPU: the CUDA mLSTM (head dim 64) and sLSTM (16) kernels, whose autograd runs in the
// recomputation on the engine's device thread, bf16 autocast and dropout on the CUDA generator.
class CudaRecompute : public xlstm::testing::CudaTest {};

TEST_F(CudaRecompute, BlocksWithTheKernelsUnderAutocast) {
  auto plain = small_lm(false, 0.1), recomputed = small_lm(true, 0.1);
  plain->to(torch::kCUDA);
  recomputed->to(torch::kCUDA);
  const auto pass = [](xLSTMLMModel& model) {
    torch::manual_seed(3);
    const auto ids = torch::randint(0, 40, {3, 24}, torch::TensorOptions().dtype(torch::kLong).device(torch::kCUDA));
    PassResult r;
    {
      AutocastScope scope(c10::DeviceType::CUDA, true, at::kBFloat16);
      r.logits = std::get<0>(model->forward(ids));
    }
    r.logits.to(torch::kFloat32).pow(2).mean().backward();
    for (const auto& p : model->parameters()) r.grads.push_back(p.grad().clone());
    return r;
  };
  const PassResult a = pass(plain), b = pass(recomputed);
  EXPECT_TRUE(graph_has(b.logits, "xlstm::RecomputeBackward"));
  expect_same(a, b, 1e-4);
}

TEST(Recompute, LargeBlocksGiveThePlainGradients) {
  const auto config = testing::small_large_config("train");
  const auto ids = testing::random_ids(2, 20, config.vocab_size, 4);
  std::vector<torch::Tensor> grads[2];
  torch::Tensor logits[2];
  for (const bool recompute : {false, true}) {
    auto model = testing::seeded_large_model(config, 6);
    model->backbone->recompute_blocks = recompute;
    logits[recompute] = std::get<0>(model->forward(ids));
    EXPECT_EQ(graph_has(logits[recompute], "xlstm::RecomputeBackward"), recompute);
    logits[recompute].pow(2).mean().backward();
    for (const auto& p : model->parameters()) grads[recompute].push_back(p.grad().clone());
  }
  XLSTM_EXPECT_CLOSE(logits[1], logits[0], 1e-6);
  ASSERT_EQ(grads[1].size(), grads[0].size());
  for (size_t i = 0; i < grads[0].size(); ++i) XLSTM_EXPECT_CLOSE(grads[1][i], grads[0][i], 1e-6);
}

TEST(Recompute, WithoutGradModeIsThePlainCall) {
  int calls = 0;
  const auto fn = [&calls](const torch::Tensor& t) {
    ++calls;
    return t * 2;
  };
  torch::NoGradGuard no_grad;
  const auto x = torch::ones({2}, torch::requires_grad());
  const auto y = recompute_in_backward(fn, x);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(y.requires_grad());
}

TEST(Recompute, AViewResultIsCopied) {
  // fn returning its input (or a view of it) must not have the node attached to x itself.
  const auto x = torch::randn({3}, torch::requires_grad());
  const auto y = recompute_in_backward([](const torch::Tensor& t) { return t.view({3}); }, x);
  EXPECT_TRUE(x.is_leaf());
  (y * torch::tensor({1.0, 2.0, 3.0})).sum().backward();
  EXPECT_TRUE(torch::equal(x.grad(), torch::tensor({1.0f, 2.0f, 3.0f})));
}

TEST(Recompute, TrainingConfigKey) {
  EXPECT_FALSE(train::TrainingConfig{}.recompute_blocks);
  EXPECT_EQ(train::TrainingConfig{}.recompute_chunk_states, 0);
  const auto c = from_yaml<train::TrainingConfig>(
      "recompute_blocks: true\nrecompute_block_count: 12\nrecompute_chunk_states: -1\n");
  EXPECT_TRUE(c.recompute_blocks);
  EXPECT_EQ(c.recompute_block_count, 12);
  EXPECT_EQ(c.recompute_chunk_states, -1);
  const auto expect_named = [](const train::TrainingConfig& bad, const std::string& key) {
    EXPECT_THROW(
        try { bad.validate("training"); } catch (const std::exception& e) {
          EXPECT_NE(std::string(e.what()).find("training." + key), std::string::npos) << e.what();
          throw;
        },
        std::exception);
  };
  train::TrainingConfig bad;
  bad.recompute_block_count = -1;
  expect_named(bad, "recompute_block_count");
  train::TrainingConfig bad_states;
  bad_states.recompute_chunk_states = -2;
  expect_named(bad_states, "recompute_chunk_states");
}

// recompute_chunk_states counts the mLSTM blocks only (block 1 of small_lm is an sLSTM block).
TEST(Recompute, ChunkStatesOfTheFirstMlstmBlocks) {
  auto model = small_lm(false);
  auto& stack = model->xlstm_block_stack;
  const auto keeps = [&] {
    std::vector<bool> k;
    for (size_t i : {size_t{0}, size_t{2}}) k.push_back(stack->block(i)->mlstm_layer->mlstm_cell->keep_chunk_states);
    return k;
  };
  EXPECT_EQ(keeps(), (std::vector<bool>{true, true}));
  for (const auto& [count, want] : {std::pair<int64_t, std::vector<bool>>{1, {false, true}}, {2, {false, false}},
                                    {5, {false, false}}, {-1, {false, false}}, {0, {true, true}}}) {
    SCOPED_TRACE("count " + std::to_string(count));
    stack->recompute_chunk_states(count);
    EXPECT_EQ(keeps(), want);
  }
}

}  // namespace
}  // namespace xlstm
