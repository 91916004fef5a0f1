// Formal-language generators and datasets (xlstm-spec.md §8.1): every answer recomputed here from the
// generated tokens by an independent evaluation, length ranges, padding, determinism from the seed,
// the reference's item layout (mask, shift, extra tokens), split parts and their overrides.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <vector>

#include "xlstm/data/formal_language_dataset.h"
#include "xlstm/data/formal_tasks.h"

namespace {

using namespace xlstm::data;

FormalTaskParams params(const std::string& task, int64_t vocab, int64_t min_len, int64_t max_len, int64_t context) {
  FormalTaskParams p;
  p.task = task;
  p.vocab_size = vocab;
  p.min_sequence_length = min_len;
  p.max_sequence_length = max_len;
  p.context_length = context;
  return p;
}

// The answer position (the single 1 of the mask) and checks of the layout around it.
int64_t answer_position(const FormalSequence& seq) {
  EXPECT_EQ(std::count(seq.mask.begin(), seq.mask.end(), 1), 1);
  const int64_t pos = std::find(seq.mask.begin(), seq.mask.end(), 1) - seq.mask.begin();
  for (size_t t = static_cast<size_t>(pos) + 1; t < seq.tokens.size(); ++t) EXPECT_EQ(seq.tokens[t], 0) << "pad after the answer";
  for (int64_t t = 0; t < pos; ++t) EXPECT_NE(seq.tokens[t], 0) << "no pad before the answer";
  return pos;
}

// Runs `check(tokens, size)` on many sequences and returns the answer histogram.
template <class Check>
std::map<int64_t, int> for_many(const FormalTaskParams& p, Check check, int n = 2000) {
  std::map<int64_t, int> answers;
  const FormalTask& task = formal_task(p.task);
  for (int i = 0; i < n; ++i) {
    Rng rng(1000 + static_cast<uint64_t>(i));
    const FormalSequence seq = task.generate(p, rng);
    EXPECT_EQ(static_cast<int64_t>(seq.tokens.size()), p.context_length);
    const int64_t size = answer_position(seq) + 1;
    EXPECT_GE(size, p.min_sequence_length);
    EXPECT_LE(size, p.max_sequence_length);
    check(seq.tokens, size);
    ++answers[seq.tokens[size - 1]];
  }
  return answers;
}

TEST(DataFormal, ParityAnswerIsNumberOfTwosModTwo) {
  const auto p = params("parity", 3, 3, 40, 64);
  std::set<int64_t> sizes;
  const auto answers = for_many(p, [&](const std::vector<int64_t>& x, int64_t size) {
    int twos = 0;
    for (int64_t t = 0; t < size - 1; ++t) {
      EXPECT_TRUE(x[t] == 1 || x[t] == 2);
      twos += x[t] == 2;
    }
    EXPECT_EQ(x[size - 1], twos % 2 == 0 ? 1 : 2);
    sizes.insert(size);
  });
  EXPECT_EQ(sizes.size(), 38u) << "every size in [3, 40] occurs";
  EXPECT_EQ(answers.size(), 2u);
  EXPECT_NEAR(answers.at(1) / 2000.0, 0.5, 0.05);
}

TEST(DataFormal, ParityLargerVocabularyIsSumModulo) {
  const auto p = params("parity", 5, 1, 9, 9);
  for_many(p, [&](const std::vector<int64_t>& x, int64_t size) {
    int64_t sum = 0;
    for (int64_t t = 0; t < size - 1; ++t) sum += x[t] - 1;
    EXPECT_EQ(x[size - 1], sum % 4 + 1);
  });
}

TEST(DataFormal, EvenPairsAnswerComparesFirstAndLast) {
  const auto p = params("even_pairs", 3, 3, 20, 24);
  const auto answers = for_many(p, [&](const std::vector<int64_t>& x, int64_t size) {
    // Count "12" and "21" pairs: equal counts iff the answer is 1.
    int ab = 0, ba = 0;
    for (int64_t t = 0; t + 1 < size - 1; ++t) ab += x[t] == 1 && x[t + 1] == 2, ba += x[t] == 2 && x[t + 1] == 1;
    EXPECT_EQ(x[size - 1], ab == ba ? 1 : 2);
  });
  EXPECT_EQ(answers.size(), 2u);
}

TEST(DataFormal, CycleNavigationAnswerIsFinalPosition) {
  const auto p = params("cycle_navigation", 10, 1, 30, 32);
  const auto answers = for_many(p, [&](const std::vector<int64_t>& x, int64_t size) {
    int position = 0;  // on a cycle of 10 - 2 - 2 = 6 positions
    for (int64_t t = 0; t < size - 1; ++t) {
      EXPECT_TRUE(x[t] >= 1 && x[t] <= 3);
      if (x[t] == 2) position = (position + 1) % 6;
      if (x[t] == 3) position = (position + 5) % 6;
    }
    EXPECT_EQ(x[size - 1], position + 4);
  });
  EXPECT_EQ(answers.size(), 6u);
  EXPECT_EQ(num_answer_classes(p), 6);
}

TEST(DataFormal, CycleNavigationWiderSteps) {
  auto p = params("cycle_navigation", 12, 5, 15, 16);
  p.max_step_size = 2;  // tokens 1..5: 0, +1, +2, -1, -2; cycle of 12 - 2 - 4 = 6
  for_many(p, [&](const std::vector<int64_t>& x, int64_t size) {
    const int moves[] = {0, 0, 1, 2, -1, -2};
    int position = 0;
    for (int64_t t = 0; t < size - 1; ++t) position += moves[x[t]];
    EXPECT_EQ(x[size - 1], ((position % 6) + 6) % 6 + 6);
  });
}

// Evaluates "n op n op ... n" by first collapsing the products, then adding the signed terms.
int64_t evaluate_expression(const std::vector<int64_t>& x, int64_t end) {
  std::vector<int64_t> terms{x[0] - 5};
  std::vector<int64_t> ops;
  for (int64_t t = 1; t + 1 < end; t += 2) {
    if (x[t] == 3)
      terms.back() *= x[t + 1] - 5;
    else
      ops.push_back(x[t]), terms.push_back(x[t + 1] - 5);
  }
  int64_t value = terms[0];
  for (size_t i = 0; i < ops.size(); ++i) value += ops[i] == 1 ? terms[i + 1] : -terms[i + 1];
  return value;
}

TEST(DataFormal, ModularArithmeticAnswerFollowsPrecedence) {
  const auto p = params("modular_arithmetic", 10, 3, 11, 12);  // short: the products stay exact in int64
  const auto answers = for_many(p, [&](const std::vector<int64_t>& x, int64_t size) {
    EXPECT_EQ(size % 2, 1) << "sizes are odd";
    for (int64_t t = 0; t < size - 2; ++t) {
      if (t % 2 == 0)
        EXPECT_TRUE(x[t] >= 5 && x[t] <= 9);
      else
        EXPECT_TRUE(x[t] >= 1 && x[t] <= 3);
    }
    EXPECT_EQ(x[size - 2], 4) << "'=' before the answer";
    EXPECT_EQ(x[size - 1], ((evaluate_expression(x, size - 1) % 5) + 5) % 5 + 5);
  });
  EXPECT_EQ(answers.size(), 5u);
}

TEST(DataFormal, ModularArithmeticLongSequencesStayInRange) {
  const auto p = params("modular_arithmetic", 10, 101, 255, 256);
  for_many(p, [&](const std::vector<int64_t>& x, int64_t size) {
    EXPECT_GE(x[size - 1], 5);
    EXPECT_LE(x[size - 1], 9);
  }, 200);
}

TEST(DataFormal, BadParametersNameTheField) {
  const auto path_of = [](const std::string& field) { return "k." + field; };
  const auto message = [&](const FormalTaskParams& p) {
    try {
      check_formal_task_params(p, path_of);
    } catch (const xlstm::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(params("parity", 3, 3, 40, 256)), "no error");
  EXPECT_EQ(message(params("parity", 2, 3, 40, 256)).rfind("k.vocab_size: 2 is too small for parity", 0), 0u);
  EXPECT_EQ(message(params("parity", 3, 3, 300, 256)), "k.max_sequence_length: 300 exceeds context_length 256");
  EXPECT_EQ(message(params("parity", 3, 41, 40, 256)), "k.max_sequence_length: 40 is below min_sequence_length 41");
  EXPECT_EQ(message(params("even_pairs", 3, 2, 40, 256)).rfind("k.min_sequence_length: 2 is below", 0), 0u);
  EXPECT_EQ(message(params("cycle_navigation", 5, 3, 40, 256)).rfind("k.vocab_size: 5 is too small", 0), 0u);
  EXPECT_EQ(message(params("modular_arithmetic", 6, 3, 40, 256)).rfind("k.vocab_size: 6", 0), 0u);
  EXPECT_EQ(message(params("sorting", 3, 3, 40, 256)).rfind("k.task: \"sorting\" is not one of parity", 0), 0u);
}

FormLangDatasetConfig parity_config() {
  FormLangDatasetConfig c;
  c.vocab_size = 3;
  c.context_length = 32;
  c.min_sequence_length = 3;
  c.max_sequence_length = 10;
  c.enable_mask = true;
  c.seed = 7;
  c.count = {1000, 100, 50};
  FormLangOverrides longer;
  longer.min_sequence_length = 10;
  longer.max_sequence_length = 32;
  c.subpar = {{"validation", longer}, {"validation_short", FormLangOverrides{}}};
  c.validate();
  return c;
}

TEST(DataFormal, SplitPartsCountsAndOverrides) {
  const auto c = parity_config();
  const auto splits = form_lang_splits(c);
  ASSERT_EQ(splits.size(), 4u);
  EXPECT_EQ(splits[0].name, "train");
  EXPECT_EQ(splits[1].name, "validation");
  EXPECT_EQ(splits[2].name, "validation_short");
  EXPECT_EQ(splits[3].name, "test");
  EXPECT_EQ(splits[0].data->size(), 1000);
  EXPECT_EQ(splits[1].data->size(), 100);
  EXPECT_EQ(splits[2].data->size(), 100);
  EXPECT_EQ(splits[3].data->size(), 50);
  EXPECT_EQ(splits[1].data->description(), "parity, lengths 10-32");
  EXPECT_EQ(splits[2].data->description(), "parity, lengths 3-10");
  const auto& validation = static_cast<const FormLangDataset&>(*splits[1].data);
  for (int64_t i = 0; i < 100; ++i) {
    const auto seq = validation.sequence(i);
    const int64_t size = std::find(seq.mask.begin(), seq.mask.end(), 1) - seq.mask.begin() + 1;
    EXPECT_GE(size, 10);
    EXPECT_LE(size, 32);
  }
  EXPECT_DOUBLE_EQ(splits[1].data->chance_accuracy(), 0.5);
  // Unset lengths: max = context_length, min = max.
  FormLangDatasetConfig d;
  d.context_length = 20;
  const auto p = d.task_params("train");
  EXPECT_EQ(p.max_sequence_length, 20);
  EXPECT_EQ(p.min_sequence_length, 20);
}

TEST(DataFormal, DeterministicFromTheSeed) {
  const auto a = form_lang_splits(parity_config());
  const auto b = form_lang_splits(parity_config());
  auto other = parity_config();
  other.seed = 8;
  const auto c = form_lang_splits(other);
  int differ_seed = 0, differ_split = 0, differ_index = 0;
  for (int64_t i = 0; i < 50; ++i) {
    EXPECT_EQ(a[0].data->get(i).input, b[0].data->get(i).input);
    EXPECT_EQ(a[3].data->get(i).target, b[3].data->get(i).target);
    differ_seed += a[0].data->get(i).input != c[0].data->get(i).input;
    differ_split += a[2].data->get(i).input != a[0].data->get(i).input;  // validation_short vs train: same lengths
    differ_index += a[0].data->get(i).input != a[0].data->get(i + 1).input;
  }
  EXPECT_GE(differ_seed, 45);
  EXPECT_GE(differ_split, 45);
  EXPECT_GE(differ_index, 45);
  EXPECT_THROW(a[0].data->get(1000), std::out_of_range);
}

TEST(DataFormal, MaskedShiftedItemsAsTheReferenceBuildsThem) {
  const auto c = parity_config();
  const FormLangDataset train(c, "train", 123);
  EXPECT_EQ(train.sequence_length(), 31);
  EXPECT_EQ(train.ignore_index(), -1);
  for (int64_t i = 0; i < 20; ++i) {
    const auto seq = train.sequence(i);
    const auto item = train.get(i);
    const int64_t answer = std::find(seq.mask.begin(), seq.mask.end(), 1) - seq.mask.begin();
    // input = seq[:-1] with the answer replaced by pad; target = seq[1:] with only the answer kept.
    for (int64_t t = 0; t < 31; ++t) {
      EXPECT_EQ(item.input[t], t == answer ? 0 : seq.tokens[t]);
      EXPECT_EQ(item.target[t], t + 1 == answer ? seq.tokens[answer] : -1);
    }
  }
}

TEST(DataFormal, UnmaskedNegativeShiftAndExtraTokens) {
  auto c = parity_config();
  c.vocab_size = 8;  // 3 for parity + 2 prefix + 1 suffix + 2 premask
  c.additional_prefix_tokens = 2;
  c.additional_suffix_tokens = 1;
  c.additional_premask_tokens = 2;
  c.enable_mask = false;
  c.shift = -1;
  c.validate();
  EXPECT_EQ(c.task_params("train").vocab_size, 3);
  const FormLangDataset train(c, "train", 5);
  EXPECT_EQ(train.sequence_length(), 2 + 32 + 2 + 1 - 1);
  const auto seq = train.sequence(0);
  const int64_t answer = std::find(seq.mask.begin(), seq.mask.end(), 1) - seq.mask.begin();
  std::vector<int64_t> full{3, 4};  // prefix ids: 8 - 2 - 1 - 2 = 3
  for (int64_t t = 0; t < 32; ++t) {
    if (t == answer) full.insert(full.end(), {6, 7});  // premask ids: 8 - 2 = 6
    full.push_back(seq.tokens[t]);
  }
  full.push_back(5);  // suffix id: 8 - 1 - 2 = 5
  const auto item = train.get(0);
  EXPECT_EQ(item.input, std::vector<int64_t>(full.begin() + 1, full.end()));   // seq[1:]
  EXPECT_EQ(item.target, std::vector<int64_t>(full.begin(), full.end() - 1));  // seq[:-1]
  EXPECT_DOUBLE_EQ(train.chance_accuracy(), 1.0 / 8);
}

TEST(DataFormal, BatchesStackExamples) {
  const auto c = parity_config();
  const FormLangDataset train(c, "train", 9);
  const auto batch = make_batch(train, 10, 4);
  ASSERT_EQ(batch.inputs.sizes(), (std::vector<int64_t>{4, 31}));
  EXPECT_EQ(batch.inputs.dtype(), torch::kLong);
  for (int64_t i = 0; i < 4; ++i) {
    const auto item = train.get(10 + i);
    EXPECT_TRUE(torch::equal(batch.inputs[i], torch::tensor(item.input)));
    EXPECT_TRUE(torch::equal(batch.targets[i], torch::tensor(item.target)));
  }
  EXPECT_THROW(make_batch(train, 998, 4), std::out_of_range);
}

TEST(DataFormal, RngIsUniformAndBounded) {
  Rng rng(3);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    const int64_t v = rng.uniform_int(-3, 3);
    ASSERT_TRUE(v >= -3 && v <= 3);
    ++counts[v + 3];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);
  for (int i = 0; i < 1000; ++i) {
    const double u = rng.uniform();
    ASSERT_TRUE(u >= 0 && u < 1);
  }
  EXPECT_EQ(Rng(5).next_u64(), Rng(5).next_u64());
  EXPECT_NE(Rng(5).next_u64(), Rng(6).next_u64());
}

}  // namespace
