// Generation with xLSTMLarge: greedy against a hand-written argmax loop, seeded sampling, top-k = 1,
// top-k / top-p / temperature / repetition-penalty filtering, stop tokens, callback order, and a
// left-padded batch against each prompt alone.
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "large_testing.h"
#include "testing.h"
#include "xlstm/generate.h"

namespace xlstm {
namespace {

struct Fixture {
  // Chunk 16: prompts of 16+ tokens are prefilled chunkwise. Generation must not depend on the mode.
  xLSTMLargeConfig cfg = testing::small_large_config("train", 16);
  large::xLSTMLarge model = testing::seeded_large_model(cfg, 21);
};

std::vector<int64_t> prompt_of(int64_t length, uint64_t seed) {
  const auto ids = testing::random_ids(1, length, 50, seed);
  return std::vector<int64_t>(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + length);
}

TEST(LargeGenerate, GreedyEqualsAnArgmaxLoop) {
  Fixture f;
  const auto prompt = prompt_of(13, 1);
  GenerationConfig gen;
  gen.max_new_tokens = 12;
  const auto result = generate(f.model, {prompt}, gen);
  ASSERT_EQ(result.tokens.size(), 1u);

  // By hand: the whole sequence so far through forward each time, argmax of the last logits.
  torch::NoGradGuard no_grad;
  std::vector<int64_t> seq = prompt, expected;
  for (int i = 0; i < 12; ++i) {
    auto [logits, state] = f.model->forward(torch::tensor(seq, torch::kLong).unsqueeze(0));
    expected.push_back(logits[0][-1].argmax().item<int64_t>());
    seq.push_back(expected.back());
  }
  EXPECT_EQ(result.tokens[0], expected);
  EXPECT_EQ(generate(f.model, {prompt}, gen).tokens, result.tokens);  // deterministic

  // The returned state is the one after prompt + all generated tokens but the last.
  auto [logits, state] = f.model->forward(torch::tensor(std::vector<int64_t>(seq.begin(), seq.end() - 1), torch::kLong).unsqueeze(0));
  ASSERT_EQ(result.state.size(), state.size());
  for (std::size_t b = 0; b < state.size(); ++b) XLSTM_EXPECT_CLOSE(result.state[b].C, state[b].C, 1e-5);
}

TEST(LargeGenerate, SeededSamplingIsReproducible) {
  Fixture f;
  const std::vector<std::vector<int64_t>> prompts = {prompt_of(5, 2), prompt_of(9, 3)};
  GenerationConfig gen;
  gen.max_new_tokens = 20;
  gen.do_sample = true;
  gen.temperature = 1.5;
  gen.seed = 1234;
  const auto a = generate(f.model, prompts, gen);
  const auto b = generate(f.model, prompts, gen);
  EXPECT_EQ(a.tokens, b.tokens);
  gen.seed = 4321;
  const auto c = generate(f.model, prompts, gen);
  EXPECT_NE(a.tokens, c.tokens);
  // Sampling at a high temperature differs from greedy.
  GenerationConfig greedy;
  greedy.max_new_tokens = 20;
  EXPECT_NE(generate(f.model, prompts, greedy).tokens, a.tokens);
}

TEST(LargeGenerate, TopKOneIsGreedy) {
  Fixture f;
  const std::vector<std::vector<int64_t>> prompts = {prompt_of(7, 4), prompt_of(3, 5)};
  GenerationConfig greedy;
  greedy.max_new_tokens = 15;
  GenerationConfig top1 = greedy;
  top1.do_sample = true;
  top1.top_k = 1;
  top1.temperature = 3.0;
  top1.seed = 7;
  EXPECT_EQ(generate(f.model, prompts, top1).tokens, generate(f.model, prompts, greedy).tokens);
}

TEST(LargeGenerate, LogitProcessing) {
  const auto logits = torch::tensor({2.0, -1.0, 0.5, 3.0, -4.0}).unsqueeze(0);
  const double inf = std::numeric_limits<double>::infinity();
  GenerationConfig c;
  c.do_sample = true;

  c.top_k = 2;
  auto x = process_logits(logits, c, {});
  EXPECT_TRUE(torch::equal(torch::isinf(x), torch::tensor({false, true, true, false, true}).unsqueeze(0)));

  // top-p: probabilities of [3, 2, 0.5, -1, -4] are about [.67, .25, .02, .01, .0006]; 0.9 keeps two.
  c.top_k = 0;
  c.top_p = 0.9;
  x = process_logits(logits, c, {});
  EXPECT_TRUE(torch::equal(x == -inf, torch::tensor({false, true, true, false, true}).unsqueeze(0)));
  c.top_p = 0.5;  // the most likely token alone
  x = process_logits(logits, c, {});
  EXPECT_EQ((x != -inf).sum().item<int64_t>(), 1);
  EXPECT_EQ(x.argmax().item<int64_t>(), 3);

  c.top_p = 1.0;
  c.temperature = 2.0;
  XLSTM_EXPECT_CLOSE(process_logits(logits, c, {}), logits / 2.0, 1e-7);

  // Repetition penalty: positive logits divided, negative multiplied, only for seen tokens; greedy too.
  GenerationConfig r;
  r.repetition_penalty = 2.0;
  const auto seen = torch::tensor({true, true, false, false, false}).unsqueeze(0);
  XLSTM_EXPECT_CLOSE(process_logits(logits, r, seen), torch::tensor({1.0, -2.0, 0.5, 3.0, -4.0}).unsqueeze(0), 1e-7);
  r.repetition_penalty = 10.0;
  const auto seen_best = torch::tensor({false, false, false, true, false}).unsqueeze(0);
  EXPECT_EQ(select_next_tokens(logits, r, seen_best, std::nullopt).item<int64_t>(), 0);
}

TEST(LargeGenerate, SamplingFollowsTheDistribution) {
  const auto logits = torch::tensor({1.0, 0.0, 2.0, -1.0}).unsqueeze(0).repeat({4000, 1});
  GenerationConfig c;
  c.do_sample = true;
  torch::Generator gen = at::detail::createCPUGenerator(99);
  const auto ids = select_next_tokens(logits, c, {}, gen);
  const auto counts = torch::bincount(ids, {}, 4).to(torch::kDouble) / 4000.0;
  const auto expected = logits[0].softmax(0).to(torch::kDouble);
  EXPECT_LT((counts - expected).abs().max().item<double>(), 0.03);
  c.top_k = 2;  // tokens 1 and 3 never drawn
  const auto top2 = select_next_tokens(logits, c, {}, gen);
  EXPECT_EQ(((top2 == 1) | (top2 == 3)).sum().item<int64_t>(), 0);
}

TEST(LargeGenerate, StopTokensEndSequencesAndCallbackStreamsInOrder) {
  Fixture f;
  const std::vector<std::vector<int64_t>> prompts = {prompt_of(6, 6), prompt_of(11, 7), prompt_of(2, 8)};
  GenerationConfig gen;
  gen.max_new_tokens = 10;
  const auto free_run = generate(f.model, prompts, gen);

  // Stop at the third token of sequence 1: it ends there (stop token kept); a token that sequence 0
  // produces later may stop it too; every other sequence runs on unchanged up to where it stops.
  const int64_t stop = free_run.tokens[1][2];
  gen.stop_tokens = {stop};
  std::vector<std::pair<int64_t, int64_t>> streamed;
  const auto result = generate(f.model, prompts, gen, [&](int64_t b, int64_t t) { streamed.emplace_back(b, t); });
  for (std::size_t b = 0; b < prompts.size(); ++b) {
    SCOPED_TRACE("sequence " + std::to_string(b));
    const auto& full = free_run.tokens[b];
    const auto first_stop = std::find(full.begin(), full.end(), stop);
    const std::vector<int64_t> expected(full.begin(), first_stop == full.end() ? full.end() : first_stop + 1);
    EXPECT_EQ(result.tokens[b], expected);
  }
  EXPECT_EQ(result.tokens[1].size(), 3u);

  // The callback saw every token once, step by step in ascending batch order.
  std::vector<std::pair<int64_t, int64_t>> expected_stream;
  for (std::size_t step = 0; step < 10; ++step)
    for (std::size_t b = 0; b < prompts.size(); ++b)
      if (step < result.tokens[b].size()) expected_stream.emplace_back(b, result.tokens[b][step]);
  EXPECT_EQ(streamed, expected_stream);

  // Every sequence stopping ends generation early.
  gen.stop_tokens = {free_run.tokens[0][0], free_run.tokens[1][0], free_run.tokens[2][0]};
  const auto first_only = generate(f.model, prompts, gen);
  for (const auto& t : first_only.tokens) EXPECT_EQ(t.size(), 1u);
}

TEST(LargeGenerate, PaddedBatchEqualsEachPromptAlone) {
  Fixture f;
  const std::vector<std::vector<int64_t>> prompts = {prompt_of(3, 9), prompt_of(20, 10), prompt_of(1, 11),
                                                     prompt_of(9, 12)};
  GenerationConfig gen;
  gen.max_new_tokens = 12;
  gen.repetition_penalty = 1.3;
  const auto batch = generate(f.model, prompts, gen);
  for (std::size_t b = 0; b < prompts.size(); ++b) {
    SCOPED_TRACE("prompt " + std::to_string(b));
    const auto alone = generate(f.model, {prompts[b]}, gen);
    EXPECT_EQ(batch.tokens[b], alone.tokens[0]);
    for (std::size_t k = 0; k < alone.state.size(); ++k) {
      XLSTM_EXPECT_CLOSE(batch.state[k].C.narrow(0, b, 1), alone.state[k].C, 1e-5);
      XLSTM_EXPECT_CLOSE(batch.state[k].m.narrow(0, b, 1), alone.state[k].m, 1e-5);
    }
  }
}

TEST(LargeGenerate, ZeroNewTokensReturnsThePrefillState) {
  Fixture f;
  GenerationConfig gen;
  gen.max_new_tokens = 0;
  int calls = 0;
  const auto prompt = prompt_of(10, 13);
  const auto result = generate(f.model, {prompt}, gen, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(result.tokens[0].empty());
  torch::NoGradGuard no_grad;
  const auto [logits, state] = f.model->forward(torch::tensor(prompt, torch::kLong).unsqueeze(0));
  for (std::size_t b = 0; b < state.size(); ++b) XLSTM_EXPECT_CLOSE(result.state[b].C, state[b].C, 1e-6);
}

}  // namespace
}  // namespace xlstm
