// A token file as a source of training and evaluation batches of (B, T + 1) token windows (inputs are
// [:, :-1], targets [:, 1:]).
//
// Training batches are a pure function of (seed, step): window starts are drawn uniformly from
// [0, N - T - 1] with a counter-based generator (SplitMix64 of seed, step and row), so a run resumed at
// step k sees exactly the batches it would have seen, without saving any generator state, and the
// batches are the same on every platform. Evaluation batches cover the file in order with windows
// that start every T tokens (each token is a target once, except the first).
//
//   xlstm::data::TokenDataset train("data/train.bin");
//   torch::Tensor batch = train.random_batch(/*seed=*/0, /*step=*/k, /*batch_size=*/16, /*seq_len=*/256);
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xlstm/data/token_file.h"

namespace xlstm::data {

class TokenDataset {
 public:
  explicit TokenDataset(const std::string& path);  // reads and validates the token file (token_file.h)

  const std::string& path() const { return file_->path(); }
  int64_t vocab_size() const { return file_->vocab_size(); }
  int64_t size() const { return file_->size(); }  // tokens

  // (batch_size, seq_len + 1) int64 windows for training step `step`. DataError when the file holds
  // fewer than seq_len + 1 tokens or a size is not positive.
  torch::Tensor random_batch(uint64_t seed, int64_t step, int64_t batch_size, int64_t seq_len) const;
  // The start of row `row` of random_batch(seed, step, ., seq_len) (the same for every batch size).
  int64_t random_start(uint64_t seed, int64_t step, int64_t row, int64_t seq_len) const;
  // Tokens [start, start + count) as int64 (DataError when they are not all in the file).
  std::vector<int64_t> tokens(int64_t start, int64_t count) const;

  // Evaluation: the windows starting at 0, T, 2T, ... that fit, batch_size at a time; the last batch
  // may have fewer rows. index in [0, num_sequential_batches).
  int64_t num_sequential_batches(int64_t batch_size, int64_t seq_len) const;
  torch::Tensor sequential_batch(int64_t index, int64_t batch_size, int64_t seq_len) const;

 private:
  torch::Tensor windows(const std::vector<int64_t>& starts, int64_t seq_len) const;
  int64_t num_windows(int64_t seq_len) const;
  void check_sizes(int64_t batch_size, int64_t seq_len) const;

  std::shared_ptr<const TokenFile> file_;
};

}  // namespace xlstm::data
