// Generation with xLSTMLMModel (lm_generate.h): greedy against a hand-written argmax loop over full
// forward passes, a batch of prompts of different lengths against each prompt alone, seeded sampling,
// stop tokens and the streaming order, the vocabulary limit, and stack_states.
#include <gtest/gtest.h>

#include "testing.h"
#include "xlstm/lm_generate.h"

namespace xlstm {
namespace {

// mLSTM, sLSTM, mLSTM blocks (every kind of state), vocabulary 40.
xLSTMLMModel small_model() {
  torch::manual_seed(5);
  xLSTMLMModel model(from_yaml<xLSTMLMModelConfig>(
      "vocab_size: 40\ncontext_length: 16\nnum_blocks: 3\nembedding_dim: 16\n"
      "mlstm_block: {mlstm: {num_heads: 2}}\nslstm_block: {slstm: {num_heads: 2}}\nslstm_at: [1]\n"));
  model->reset_parameters();
  // Larger embedding and head weights than the small init, so that the logits differ clearly.
  torch::NoGradGuard no_grad;
  model->token_embedding->weight.normal_(0.0, 1.0);
  model->lm_head->weight.normal_(0.0, 1.0);
  model->eval();
  return model;
}

std::vector<int64_t> argmax_loop(xLSTMLMModel& model, std::vector<int64_t> seq, int n) {
  torch::NoGradGuard no_grad;
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) {
    const auto logits = std::get<0>(model->forward(torch::tensor(seq, torch::kLong).unsqueeze(0)));
    out.push_back(logits[0][-1].argmax().item<int64_t>());
    seq.push_back(out.back());
  }
  return out;
}

TEST(LmGenerate, GreedyEqualsAnArgmaxLoop) {
  auto model = small_model();
  const std::vector<int64_t> prompt{3, 17, 5, 5, 30, 2, 11};
  GenerationConfig gen;
  gen.max_new_tokens = 10;
  const auto result = generate(model, {prompt}, gen);
  ASSERT_EQ(result.tokens.size(), 1u);
  EXPECT_EQ(result.tokens[0], argmax_loop(model, prompt, 10));
  EXPECT_EQ(generate(model, {prompt}, gen).tokens, result.tokens);
}

TEST(LmGenerate, BatchOfDifferentLengthsEqualsEachPromptAlone) {
  auto model = small_model();
  const std::vector<std::vector<int64_t>> prompts{{1, 2, 3}, {9}, {4, 8, 15, 16, 23, 39}};
  GenerationConfig gen;
  gen.max_new_tokens = 8;
  const auto batch = generate(model, prompts, gen);
  for (size_t b = 0; b < prompts.size(); ++b) EXPECT_EQ(batch.tokens[b], argmax_loop(model, prompts[b], 8)) << b;
}

TEST(LmGenerate, SeededSamplingIsReproducible) {
  auto model = small_model();
  const auto sample = [&](uint64_t seed) {
    GenerationConfig gen;
    gen.max_new_tokens = 16;
    gen.do_sample = true;
    gen.temperature = 2.0;
    gen.seed = seed;
    return generate(model, {{1, 2, 3}, {7, 7}}, gen).tokens;
  };
  EXPECT_EQ(sample(11), sample(11));
  EXPECT_NE(sample(11), sample(12));
}

TEST(LmGenerate, StopTokensAndStreamingOrder) {
  auto model = small_model();
  const std::vector<std::vector<int64_t>> prompts{{1, 2, 3}, {9, 4}};
  GenerationConfig gen;
  gen.max_new_tokens = 12;
  const auto free_run = generate(model, prompts, gen);
  gen.stop_tokens = {free_run.tokens[0][2]};  // sequence 0 stops at its third token (or earlier)
  std::vector<std::pair<int64_t, int64_t>> streamed;
  const auto stopped = generate(model, prompts, gen, [&](int64_t b, int64_t t) { streamed.emplace_back(b, t); });
  const auto& first = stopped.tokens[0];
  ASSERT_LE(first.size(), 3u);
  EXPECT_EQ(first.back(), gen.stop_tokens[0]);
  EXPECT_TRUE(std::equal(first.begin(), first.end(), free_run.tokens[0].begin()));
  // The other sequence goes on unchanged until its own stop token or the end.
  const auto& second = stopped.tokens[1];
  EXPECT_TRUE(std::equal(second.begin(), second.end(), free_run.tokens[1].begin()));
  // Streamed in step order, ascending batch index within a step.
  std::vector<std::pair<int64_t, int64_t>> expected;
  for (size_t step = 0; step < 12; ++step)
    for (int64_t b = 0; b < 2; ++b)
      if (step < stopped.tokens[b].size()) expected.emplace_back(b, stopped.tokens[b][step]);
  EXPECT_EQ(streamed, expected);
}

TEST(LmGenerate, VocabularyLimitIsNeverExceeded) {
  auto model = small_model();
  {
    torch::NoGradGuard no_grad;
    model->lm_head->weight.narrow(0, 30, 10).mul_(50.0);  // the ids 30-39 dominate
  }
  GenerationConfig gen;
  gen.max_new_tokens = 10;
  const auto unlimited = generate(model, {{1, 2}}, gen);
  EXPECT_TRUE(std::any_of(unlimited.tokens[0].begin(), unlimited.tokens[0].end(), [](int64_t t) { return t >= 30; }));
  gen.vocab_limit = 30;
  for (bool sample : {false, true}) {
    gen.do_sample = sample;
    gen.seed = 3;
    const auto limited = generate(model, {{1, 2}}, gen);
    for (int64_t t : limited.tokens[0]) EXPECT_LT(t, 30);
  }
  gen.vocab_limit = 41;
  EXPECT_THROW(generate(model, {{1}}, gen), std::invalid_argument);
}

TEST(LmGenerate, StackedStatesEqualTheBatchState) {
  auto model = small_model();
  torch::NoGradGuard no_grad;
  const auto a = torch::tensor({{1, 5, 9, 2}}, torch::kLong), b = torch::tensor({{3, 3, 7, 30}}, torch::kLong);
  const auto stacked = stack_states({std::get<1>(model->forward(a)), std::get<1>(model->forward(b))});
  const auto together = std::get<1>(model->forward(torch::cat({a, b}, 0)));
  ASSERT_EQ(stacked.size(), together.size());
  for (size_t i = 0; i < stacked.size(); ++i) {
    auto s = stacked[i], t = together[i];
    const auto ss = state_tensors(s), ts = state_tensors(t);
    for (size_t k = 0; k < ss.size(); ++k) {
      ASSERT_EQ(ss[k].first->defined(), ts[k].first->defined()) << i << "/" << k;
      if (ss[k].first->defined()) XLSTM_EXPECT_CLOSE(*ss[k].first, *ts[k].first, 1e-5);
    }
  }
  EXPECT_THROW(stack_states({}), c10::Error);
}

TEST(LmGenerate, BadArguments) {
  auto model = small_model();
  GenerationConfig gen;
  EXPECT_THROW(generate(model, {}, gen), std::invalid_argument);
  EXPECT_THROW(generate(model, {{}}, gen), std::invalid_argument);
  EXPECT_THROW(generate(model, {{1, 40}}, gen), std::invalid_argument);
  gen.top_p = 0;
  EXPECT_THROW(generate(model, {{1}}, gen), std::invalid_argument);
}

}  // namespace
}  // namespace xlstm
