// Batches of token windows from a token file (dataset.h): seeded random windows for training,
// sequential windows for evaluation.
#include "xlstm/data/dataset.h"

#include "data/splitmix64.h"
#include "xlstm/data/error.h"

namespace xlstm::data {

TokenDataset::TokenDataset(const std::string& path) : file_(std::make_shared<const TokenFile>(path)) {}

void TokenDataset::check_sizes(int64_t batch_size, int64_t seq_len) const {
  if (batch_size < 1 || seq_len < 1)
    throw DataError(path() + ": batch size and sequence length must be positive, got " + std::to_string(batch_size) +
                    " and " + std::to_string(seq_len));
  if (size() < seq_len + 1)
    throw DataError(path() + ": holds " + std::to_string(size()) + " tokens, fewer than sequence length + 1 = " +
                    std::to_string(seq_len + 1));
}

torch::Tensor TokenDataset::windows(const std::vector<int64_t>& starts, int64_t seq_len) const {
  torch::Tensor batch = torch::empty({static_cast<int64_t>(starts.size()), seq_len + 1}, torch::kLong);
  auto a = batch.accessor<int64_t, 2>();
  for (size_t b = 0; b < starts.size(); ++b)
    for (int64_t t = 0; t <= seq_len; ++t) a[static_cast<int64_t>(b)][t] = (*file_)[starts[b] + t];
  return batch;
}

int64_t TokenDataset::random_start(uint64_t seed, int64_t step, int64_t row, int64_t seq_len) const {
  check_sizes(1, seq_len);
  const uint64_t positions = static_cast<uint64_t>(size() - seq_len);  // starts 0 ... N - T - 1
  const uint64_t step_key = splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(step));
  return static_cast<int64_t>(splitmix64(step_key + static_cast<uint64_t>(row)) % positions);
}

torch::Tensor TokenDataset::random_batch(uint64_t seed, int64_t step, int64_t batch_size, int64_t seq_len) const {
  check_sizes(batch_size, seq_len);
  std::vector<int64_t> starts(batch_size);
  for (int64_t b = 0; b < batch_size; ++b) starts[b] = random_start(seed, step, b, seq_len);
  return windows(starts, seq_len);
}

std::vector<int64_t> TokenDataset::tokens(int64_t start, int64_t count) const {
  if (start < 0 || count < 0 || start > size() - count)
    throw DataError(path() + ": tokens [" + std::to_string(start) + ", " + std::to_string(start + count) +
                    ") are outside the file's " + std::to_string(size()));
  std::vector<int64_t> out(count);
  for (int64_t t = 0; t < count; ++t) out[t] = (*file_)[start + t];
  return out;
}

int64_t TokenDataset::num_windows(int64_t seq_len) const { return (size() - 1) / seq_len; }

int64_t TokenDataset::num_sequential_batches(int64_t batch_size, int64_t seq_len) const {
  check_sizes(batch_size, seq_len);
  return (num_windows(seq_len) + batch_size - 1) / batch_size;
}

torch::Tensor TokenDataset::sequential_batch(int64_t index, int64_t batch_size, int64_t seq_len) const {
  const int64_t batches = num_sequential_batches(batch_size, seq_len);
  if (index < 0 || index >= batches)
    throw DataError(path() + ": evaluation batch " + std::to_string(index) + " is outside [0, " + std::to_string(batches) + ")");
  const int64_t first = index * batch_size;
  const int64_t rows = std::min(batch_size, num_windows(seq_len) - first);
  std::vector<int64_t> starts(rows);
  for (int64_t r = 0; r < rows; ++r) starts[r] = (first + r) * seq_len;
  return windows(starts, seq_len);
}

}  // namespace xlstm::data
