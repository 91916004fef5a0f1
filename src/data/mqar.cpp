// MQAR example generation: distinct keys and values by partial Fisher-Yates shuffles, query gaps by
// successive power-law draws without replacement (each draw ∝ weight among the gaps left, as
// numpy's choice(replace=False, p=...) draws them).
#include "xlstm/data/mqar.h"

#include <cmath>
#include <memory>
#include <numeric>
#include <stdexcept>

namespace xlstm::data {
namespace {

// `count` distinct integers from [lo, hi), in random order.
std::vector<int64_t> distinct(int64_t lo, int64_t hi, int64_t count, Rng& rng) {
  std::vector<int64_t> pool(static_cast<size_t>(hi - lo));
  std::iota(pool.begin(), pool.end(), lo);
  for (int64_t i = 0; i < count; ++i) std::swap(pool[i], pool[rng.uniform_int(i, hi - lo - 1)]);
  pool.resize(static_cast<size_t>(count));
  return pool;
}

// `count` distinct gaps from [0, space) with P(g) ∝ (g + 1)^(a - 1), drawn one after the other.
std::vector<int64_t> power_law_gaps(int64_t space, int64_t count, double a, Rng& rng) {
  std::vector<double> weight(static_cast<size_t>(space));
  double total = 0;
  for (int64_t g = 0; g < space; ++g) total += weight[g] = std::pow(static_cast<double>(g + 1), a - 1);
  std::vector<int64_t> gaps;
  for (int64_t n = 0; n < count; ++n) {
    double u = rng.uniform() * total;
    int64_t pick = -1;
    for (int64_t g = 0; g < space; ++g) {
      if (weight[g] == 0) continue;
      pick = g;  // the last gap still available, should rounding carry u past the end
      if ((u -= weight[g]) < 0) break;
    }
    gaps.push_back(pick);
    total -= weight[pick];
    weight[pick] = 0;
  }
  return gaps;
}

}  // namespace

Example multiquery_ar(const MQARParams& p, Rng& rng) {
  const int64_t T = p.input_seq_len, N = p.num_kv_pairs, V = p.vocab_size, half = V / 2;
  Example ex{std::vector<int64_t>(static_cast<size_t>(T), 0),
             std::vector<int64_t>(static_cast<size_t>(T), kMQARIgnoreIndex)};
  const auto keys = distinct(1, half, N, rng);
  const auto values = distinct(half, V, N, rng);
  for (int64_t j = 0; j < N; ++j) {
    ex.input[2 * j] = keys[j];
    ex.input[2 * j + 1] = values[j];
  }
  const auto gaps = power_law_gaps((T - 2 * N) / 2, N, p.power_a, rng);
  std::vector<bool> is_query(static_cast<size_t>(T), false);
  for (int64_t j = 0; j < N; ++j) {
    const int64_t position = 2 * N + 2 * gaps[j];
    ex.input[position] = keys[j];
    ex.target[position] = values[j];
    is_query[position] = true;
  }
  if (p.random_non_queries)
    for (int64_t t = 2 * N; t < T; ++t)
      if (!is_query[t]) ex.input[t] = rng.uniform_int(0, V - 1);
  return ex;
}

void check_mqar_params(const MQARParams& p, const std::function<std::string(const std::string&)>& path_of) {
  const auto fail = [&](const std::string& field, const std::string& value, const std::string& why) {
    throw ConfigError(path_of(field), value + " " + why);
  };
  const auto str = [](int64_t v) { return std::to_string(v); };
  if (p.input_seq_len < 4 || p.input_seq_len % 2 != 0)
    fail("input_seq_len", str(p.input_seq_len), "must be even and at least 4");
  if (p.num_kv_pairs < 1) fail("num_kv_pairs", str(p.num_kv_pairs), "must be positive");
  if (4 * p.num_kv_pairs > p.input_seq_len)
    fail("num_kv_pairs", str(p.num_kv_pairs),
         "needs 4 * num_kv_pairs = " + str(4 * p.num_kv_pairs) + " <= input_seq_len " + str(p.input_seq_len) +
             " (N pairs and N queries, each query at an even offset)");
  if (p.vocab_size <= p.input_seq_len)
    fail("vocab_size", str(p.vocab_size), "must be larger than input_seq_len " + str(p.input_seq_len));
  if (!(p.power_a > 0) || !std::isfinite(p.power_a))
    fail("power_a", std::to_string(p.power_a), "must be a positive number");
}

MQARDataset::MQARDataset(const MQARParams& params, int64_t count, uint64_t base_seed)
    : params_(params), count_(count), base_seed_(base_seed) {}

Example MQARDataset::get(int64_t index) const {
  if (index < 0 || index >= count_)
    throw std::out_of_range("example " + std::to_string(index) + " of a dataset of " + std::to_string(count_));
  Rng rng(base_seed_ + static_cast<uint64_t>(index));
  return multiquery_ar(params_, rng);
}

double MQARDataset::chance_accuracy() const {
  return 1.0 / static_cast<double>(params_.vocab_size - params_.vocab_size / 2);
}

std::string MQARDataset::description() const {
  return "MQAR, N=" + std::to_string(params_.num_kv_pairs) + ", T=" + std::to_string(params_.input_seq_len) +
         ", V=" + std::to_string(params_.vocab_size);
}

std::vector<NamedDataset> mqar_splits(const MQARDatasetConfig& config) {
  const auto parts = config.split_parts();
  const auto seeds = part_base_seeds(config.seed, parts.size());
  std::vector<NamedDataset> splits;
  for (size_t i = 0; i < parts.size(); ++i)
    splits.push_back({parts[i], std::make_shared<MQARDataset>(config.params(parts[i]), config.part_count(parts[i]), seeds[i])});
  return splits;
}

}  // namespace xlstm::data
