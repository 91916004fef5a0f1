// Multi-Query Associative Recall (Zoology's multiquery_ar, xlstm-spec.md §8.2).
//
// With V = vocab_size, T = input_seq_len and N = num_kv_pairs, an example is
//   positions 0 .. 2N-1:  k1 v1 k2 v2 ... kN vN   (N distinct keys from [1, V/2), N distinct values
//                                                   from [V/2, V))
//   positions 2N .. T-1:  the query region: key j appears again at 2N + 2·g_j, with the gaps g_j drawn
//                         without replacement from 0 .. (T-2N)/2 - 1 with probability ∝ (g+1)^(a-1)
//                         (a = power_a; small a strongly favours early queries); every other position
//                         is a uniform random token from [0, V) (random_non_queries) or 0.
// The target at a query position is the value of its key; every other target is -100 (ignored).
// Requires T even, V > T and 4N <= T, as Zoology asserts (so V/2 - 1 >= 2N - 1 keys exist).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "xlstm/data/sequence_dataset.h"
#include "xlstm/data/mqar_config.h"
#include "xlstm/data/rng.h"

namespace xlstm::data {

inline constexpr int64_t kMQARIgnoreIndex = -100;

Example multiquery_ar(const MQARParams& params, Rng& rng);

// ConfigError when the parameters break the constraints above; `path_of(field)` is the key path
// reported for a field of MQARParams.
void check_mqar_params(const MQARParams& params, const std::function<std::string(const std::string&)>& path_of);

class MQARDataset : public SequenceDataset {
 public:
  MQARDataset(const MQARParams& params, int64_t count, uint64_t base_seed);

  int64_t size() const override { return count_; }
  int64_t sequence_length() const override { return params_.input_seq_len; }
  Example get(int64_t index) const override;
  int64_t ignore_index() const override { return kMQARIgnoreIndex; }
  double chance_accuracy() const override;  // 1 / the number of possible values, V - V/2
  std::string description() const override;
  const MQARParams& params() const { return params_; }

 private:
  MQARParams params_;
  int64_t count_;
  uint64_t base_seed_;
};

// Every split part of `config` as a dataset, seeded by part_base_seeds.
std::vector<NamedDataset> mqar_splits(const MQARDatasetConfig& config);

}  // namespace xlstm::data
