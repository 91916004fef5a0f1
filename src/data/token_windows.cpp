// TokenWindows: random training windows and sequential evaluation windows of a token file.
#include "xlstm/data/token_windows.h"

#include <stdexcept>

#include "xlstm/data/error.h"

namespace xlstm::data {
namespace {

std::string file_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

TokenWindows::TokenWindows(TokenDataset tokens, int64_t seq_len, bool random, uint64_t seed, int64_t batch_size,
                           int64_t count)
    : tokens_(std::move(tokens)), seq_len_(seq_len), random_(random), seed_(seed), batch_size_(batch_size), count_(count) {}

TokenWindows TokenWindows::random(TokenDataset tokens, int64_t seq_len, uint64_t seed, int64_t batch_size,
                                  int64_t num_steps) {
  tokens.num_sequential_batches(batch_size, seq_len);  // DataError for bad sizes or a short file
  if (num_steps < 1) throw DataError(tokens.path() + ": the number of steps must be positive, got " + std::to_string(num_steps));
  return TokenWindows(std::move(tokens), seq_len, true, seed, batch_size, num_steps * batch_size);
}

TokenWindows TokenWindows::sequential(TokenDataset tokens, int64_t seq_len) {
  tokens.num_sequential_batches(1, seq_len);
  const int64_t count = (tokens.size() - 1) / seq_len;
  return TokenWindows(std::move(tokens), seq_len, false, 0, 1, count);
}

Example TokenWindows::get(int64_t index) const {
  if (index < 0 || index >= count_)
    throw std::out_of_range(tokens_.path() + ": window " + std::to_string(index) + " is outside [0, " +
                            std::to_string(count_) + ")");
  const int64_t start = random_ ? tokens_.random_start(seed_, index / batch_size_, index % batch_size_, seq_len_)
                                : index * seq_len_;
  std::vector<int64_t> window = tokens_.tokens(start, seq_len_ + 1);
  Example example;
  example.target.assign(window.begin() + 1, window.end());
  window.pop_back();
  example.input = std::move(window);
  return example;
}

std::string TokenWindows::description() const {
  return file_name(tokens_.path()) + ", " + std::to_string(tokens_.size()) + " tokens, " +
         (random_ ? "random" : "sequential") + " windows of " + std::to_string(seq_len_);
}

}  // namespace xlstm::data
