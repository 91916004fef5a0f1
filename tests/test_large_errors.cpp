// Bad input to xLSTMLarge and generation: token ids out of range, wrong ids dtype or shape, states and
// masks that do not fit, bad configs and generation settings. Errors, never crashes.
#include "large_testing.h"
#include "testing.h"
#include "xlstm/generate.h"

namespace xlstm {
namespace {

// Runs `fn`, expects an exception of type E whose message contains `needle`.
template <class E, class Fn>
void expect_error(Fn&& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(LargeErrors, TokenIds) {
  const auto cfg = testing::small_large_config();
  auto model = testing::seeded_large_model(cfg, 41);
  torch::NoGradGuard no_grad;
  auto ids = testing::random_ids(2, 9, cfg.vocab_size, 42);
  ids[1][4] = cfg.vocab_size;
  expect_error<c10::Error>([&] { model->forward(ids); }, "token ids must lie in [0, 50), got ids in [");
  ids[1][4] = -3;
  expect_error<c10::Error>([&] { model->forward(ids); }, "[-3, ");
  expect_error<c10::Error>([&] { model->step(torch::full({1, 1}, 1000, torch::kLong)); }, "token ids");
  expect_error<c10::Error>([&] { model->forward(torch::ones({2, 3})); }, "int64 or int32");
  expect_error<c10::Error>([&] { model->forward(torch::ones({6}, torch::kLong)); }, "(B, S)");
  expect_error<c10::Error>([&] { model->forward(torch::ones({2, 0}, torch::kLong)); }, "(B, S)");
  expect_error<c10::Error>([&] { model->step(torch::ones({2, 3}, torch::kLong)); }, "one position");
  // int32 ids work.
  EXPECT_NO_THROW(model->forward(torch::ones({2, 3}, torch::kInt)));
}

TEST(LargeErrors, StatesAndMasks) {
  const auto cfg = testing::small_large_config();
  auto model = testing::seeded_large_model(cfg, 43);
  torch::NoGradGuard no_grad;
  const auto ids = testing::random_ids(2, 5, cfg.vocab_size, 44);
  auto [logits, state] = model->forward(ids);

  auto wrong = state;
  wrong[1].C = wrong[1].C.transpose(2, 3).contiguous();
  expect_error<c10::Error>([&] { model->forward(ids, wrong); }, "state[1].C must be [2, 2, 8, 16]");
  wrong = state;
  wrong[0].m = torch::Tensor();
  expect_error<c10::Error>([&] { model->forward(ids, wrong); }, "state[0].m is missing");
  wrong = state;
  wrong[0].n = wrong[0].n.to(torch::kLong);
  expect_error<c10::Error>([&] { model->forward(ids, wrong); }, "state[0].n must be a floating-point");
  wrong = state;
  wrong.pop_back();
  expect_error<c10::Error>([&] { model->forward(ids, wrong); }, "1 block entries, the model 2");
  // A state of another batch size.
  expect_error<c10::Error>([&] { model->forward(ids.narrow(0, 0, 1), state); }, "state[0].C must be [1, ");

  large::ForwardOptions options;
  options.mask = torch::ones({2, 4}, torch::kBool);
  expect_error<c10::Error>([&] { model->forward(ids, {}, options); }, "mask must be a bool tensor");
  options.mask = torch::ones({2, 5}, torch::kLong);
  expect_error<c10::Error>([&] { model->forward(ids, {}, options); }, "mask must be a bool tensor");
}

TEST(LargeErrors, Configs) {
  auto cfg = testing::small_large_config();
  cfg.num_heads = 3;
  try {
    large::xLSTMLarge model(cfg);
    FAIL() << "3 heads of width 32 accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "num_heads");
  }
  cfg = testing::small_large_config();
  cfg.mode = "decode";
  EXPECT_THROW(large::xLSTMLarge{cfg}, ConfigError);
  EXPECT_THROW(large::backend_mode("decode"), ConfigError);
}

TEST(LargeErrors, GenerationInput) {
  const auto cfg = testing::small_large_config();
  auto model = testing::seeded_large_model(cfg, 45);
  GenerationConfig gen;
  gen.max_new_tokens = 2;
  expect_error<std::invalid_argument>([&] { generate(model, {}, gen); }, "no prompts");
  expect_error<std::invalid_argument>([&] { generate(model, {{1, 2}, {}}, gen); }, "prompt 1 is empty");
  expect_error<std::invalid_argument>([&] { generate(model, {{1, 2}, {3, 50}}, gen); },
                                      "prompt 1, position 1: token id 50 is outside [0, 50)");
  expect_error<std::invalid_argument>([&] { generate(model, {{-1}}, gen); }, "token id -1");

  auto bad = gen;
  bad.temperature = 0;
  expect_error<std::invalid_argument>([&] { generate(model, {{1}}, bad); }, "GenerationConfig.temperature: 0");
  bad = gen;
  bad.top_p = 1.5;
  expect_error<std::invalid_argument>([&] { generate(model, {{1}}, bad); }, "GenerationConfig.top_p: 1.5");
  bad = gen;
  bad.top_k = -1;
  expect_error<std::invalid_argument>([&] { generate(model, {{1}}, bad); }, "GenerationConfig.top_k: -1");
  bad = gen;
  bad.repetition_penalty = -2;
  expect_error<std::invalid_argument>([&] { generate(model, {{1}}, bad); }, "repetition_penalty: -2");
  bad = gen;
  bad.max_new_tokens = -1;
  expect_error<std::invalid_argument>([&] { generate(model, {{1}}, bad); }, "max_new_tokens: -1");
  bad = gen;
  bad.stop_tokens = {3, 77};
  expect_error<std::invalid_argument>([&] { generate(model, {{1}}, bad); }, "stop_tokens: 77");
}

}  // namespace
}  // namespace xlstm
