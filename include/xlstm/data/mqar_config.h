// Configuration of the Multi-Query Associative Recall dataset (Zoology's MQARConfig, xlstm-spec.md
// §8.2): vocabulary, sequence length, number of key-value pairs, the power law of the query positions,
// split sizes and per-split overrides.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xlstm/config.h"
#include "xlstm/data/split_config.h"

namespace xlstm::data {

// Parameters a `subpar` entry may change for one split part (unset = the dataset's value).
struct MQAROverrides {
  std::optional<int64_t> input_seq_len;
  std::optional<int64_t> num_kv_pairs;
  std::optional<double> power_a;

  template <class V>
  void fields(V&& v) {
    v("input_seq_len", input_seq_len, FieldKind::user);
    v("num_kv_pairs", num_kv_pairs, FieldKind::user);
    v("power_a", power_a, FieldKind::user);
  }
};

// The generator parameters of one split part after the overrides (xlstm/data/mqar.h).
struct MQARParams {
  int64_t vocab_size = 8192;
  int64_t input_seq_len = 64;
  int64_t num_kv_pairs = 8;
  double power_a = 0.01;
  bool random_non_queries = true;
};

struct MQARDatasetConfig {
  static constexpr const char* kName = "mqar";  // dataset.name of configs holding this

  int64_t vocab_size = 8192;
  int64_t input_seq_len = 64;  // T: even, < vocab_size, >= 4 * num_kv_pairs
  int64_t num_kv_pairs = 8;    // N
  double power_a = 0.01;       // query gap g drawn with probability ∝ g^(power_a - 1)
  bool random_non_queries = true;  // fill the non-query positions of the query region with random tokens
  int64_t seed = 42;
  SplitCounts count{100000, 3000, 0};
  std::vector<std::pair<std::string, MQAROverrides>> subpar;

  void post_init() {}
  void validate(const std::string& path = "") const;

  std::vector<std::string> split_parts() const { return data::split_parts(count, part_names(subpar)); }
  MQARParams params(const std::string& part) const;
  int64_t part_count(const std::string& part) const { return data::part_count(count, part); }

  template <class V>
  void fields(V&& v) {
    v("vocab_size", vocab_size, FieldKind::user);
    v("input_seq_len", input_seq_len, FieldKind::user);
    v("num_kv_pairs", num_kv_pairs, FieldKind::user);
    v("power_a", power_a, FieldKind::user);
    v("random_non_queries", random_non_queries, FieldKind::user);
    v("seed", seed, FieldKind::user);
    v("count", count, FieldKind::user);
    v("subpar", subpar, FieldKind::user);
  }
};

}  // namespace xlstm::data
