// MQAR generator (Zoology's multiquery_ar, xlstm-spec.md §8.2): the key-value block, one query per
// key at an even offset with the value as its only target, power-law query positions, the
// non-query filler, determinism from the seed and the parameter checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "xlstm/data/mqar.h"

namespace {

using namespace xlstm::data;

MQARParams mqar(int64_t V, int64_t T, int64_t N, double a = 0.01, bool random_non_queries = true) {
  return MQARParams{V, T, N, a, random_non_queries};
}

// Checks the structure of one example and returns the query gaps.
std::vector<int64_t> check_structure(const Example& ex, const MQARParams& p) {
  const int64_t T = p.input_seq_len, N = p.num_kv_pairs, V = p.vocab_size;
  EXPECT_EQ(static_cast<int64_t>(ex.input.size()), T);
  EXPECT_EQ(static_cast<int64_t>(ex.target.size()), T);
  std::map<int64_t, int64_t> value_of;
  std::set<int64_t> values;
  for (int64_t j = 0; j < N; ++j) {
    const int64_t k = ex.input[2 * j], v = ex.input[2 * j + 1];
    EXPECT_TRUE(k >= 1 && k < V / 2) << "key " << k;
    EXPECT_TRUE(v >= V / 2 && v < V) << "value " << v;
    EXPECT_TRUE(value_of.emplace(k, v).second) << "keys are distinct";
    EXPECT_TRUE(values.insert(v).second) << "values are distinct";
    EXPECT_EQ(ex.target[2 * j], kMQARIgnoreIndex);
    EXPECT_EQ(ex.target[2 * j + 1], kMQARIgnoreIndex);
  }
  std::vector<int64_t> gaps;
  std::set<int64_t> queried;
  for (int64_t t = 2 * N; t < T; ++t) {
    if (ex.target[t] == kMQARIgnoreIndex) {
      if (!p.random_non_queries) EXPECT_EQ(ex.input[t], 0);
      EXPECT_TRUE(ex.input[t] >= 0 && ex.input[t] < V);
      continue;
    }
    EXPECT_EQ((t - 2 * N) % 2, 0) << "queries sit at even offsets";
    EXPECT_TRUE(value_of.count(ex.input[t])) << "a query is a key";
    if (!value_of.count(ex.input[t])) continue;
    EXPECT_EQ(ex.target[t], value_of.at(ex.input[t])) << "the target is the key's value";
    EXPECT_TRUE(queried.insert(ex.input[t]).second) << "each key is queried once";
    gaps.push_back((t - 2 * N) / 2);
  }
  EXPECT_EQ(static_cast<int64_t>(queried.size()), N) << "every key is queried";
  return gaps;
}

TEST(DataMQAR, StructureOfExamples) {
  for (const auto& p : {mqar(8192, 256, 32), mqar(8192, 256, 64), mqar(128, 64, 8, 0.01, false), mqar(66, 64, 16)}) {
    for (uint64_t seed = 0; seed < 20; ++seed) {
      Rng rng(seed);
      check_structure(multiquery_ar(p, rng), p);
    }
  }
}

TEST(DataMQAR, RandomFillerOnlyWhenAsked) {
  int nonzero = 0;
  const auto p = mqar(512, 128, 8);
  Rng rng(1);
  const auto ex = multiquery_ar(p, rng);
  for (int64_t t = 16; t < 128; ++t) nonzero += ex.target[t] == kMQARIgnoreIndex && ex.input[t] != 0;
  EXPECT_GT(nonzero, 90);  // of the 112 - 8 filler positions, about 1/512 are 0 by chance
}

TEST(DataMQAR, QueryGapsFollowThePowerLaw) {
  // space = (256 - 16) / 2 = 120 gaps, N = 8. With a = 1 the gaps are uniform (mean 59.5); with
  // a = 0.01 the first gaps dominate.
  const auto mean_gap = [](double a) {
    const auto p = mqar(8192, 256, 8, a);
    double sum = 0;
    int count = 0;
    for (uint64_t seed = 0; seed < 300; ++seed) {
      Rng rng(seed);
      for (int64_t g : check_structure(multiquery_ar(p, rng), p)) sum += static_cast<double>(g), ++count;
    }
    return sum / count;
  };
  // Expected values from a direct simulation of successive draws ∝ (g+1)^(a-1) (200,000 examples):
  // mean gap 25.8 for a = 0.01; gap 0 among the 8 queries in 83.2% of the examples.
  EXPECT_NEAR(mean_gap(1.0), 59.5, 3.0);
  EXPECT_NEAR(mean_gap(0.01), 25.8, 3.0);
  const auto p = mqar(8192, 256, 8);
  int has_gap0 = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    Rng rng(seed);
    const auto gaps = check_structure(multiquery_ar(p, rng), p);
    has_gap0 += std::count(gaps.begin(), gaps.end(), 0);
  }
  EXPECT_NEAR(has_gap0, 0.832 * 300, 25);
}

TEST(DataMQAR, DatasetDeterministicFromSeed) {
  MQARDatasetConfig c;
  c.vocab_size = 512;
  c.input_seq_len = 64;
  c.num_kv_pairs = 8;
  c.count = {100, 20, 0};
  MQAROverrides more;
  more.num_kv_pairs = 16;
  c.subpar = {{"validation", MQAROverrides{}}, {"validation_n16", more}};
  c.validate();
  const auto a = mqar_splits(c), b = mqar_splits(c);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[2].name, "validation_n16");
  EXPECT_EQ(a[2].data->description(), "MQAR, N=16, T=64, V=512");
  EXPECT_EQ(a[0].data->ignore_index(), -100);
  EXPECT_DOUBLE_EQ(a[0].data->chance_accuracy(), 1.0 / 256);
  for (int64_t i = 0; i < 20; ++i) {
    EXPECT_EQ(a[0].data->get(i).input, b[0].data->get(i).input);
    EXPECT_NE(a[0].data->get(i).input, a[1].data->get(i).input);
    check_structure(a[2].data->get(i), static_cast<const MQARDataset&>(*a[2].data).params());
  }
}

TEST(DataMQAR, ImpossibleParametersNameTheField) {
  const auto message = [](const MQARParams& p) {
    try {
      check_mqar_params(p, [](const std::string& f) { return "kw." + f; });
    } catch (const xlstm::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(mqar(8192, 256, 64)), "no error");
  EXPECT_EQ(message(mqar(8192, 256, 65)).rfind("kw.num_kv_pairs: 65 needs 4 * num_kv_pairs = 260 <= input_seq_len 256", 0), 0u);
  EXPECT_EQ(message(mqar(8192, 255, 8)), "kw.input_seq_len: 255 must be even and at least 4");
  EXPECT_EQ(message(mqar(256, 256, 8)), "kw.vocab_size: 256 must be larger than input_seq_len 256");
  EXPECT_EQ(message(mqar(8192, 256, 0)), "kw.num_kv_pairs: 0 must be positive");
  EXPECT_EQ(message(mqar(8192, 256, 8, 0.0)).rfind("kw.power_a: ", 0), 0u);
}

}  // namespace
