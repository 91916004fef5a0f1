// A token file as a dataset of the training library (sequence_dataset.h): windows of T + 1 tokens,
// the input the first T, the target the last T (next-token prediction, every position counts).
//
// Training windows (`random`) are random and a pure function of the seed and the example index:
// example k·B + r is row r of TokenDataset::random_batch(seed, k, B, T). The Trainer's step k trains on
// examples [k·B, k·B + B), so step k sees exactly random_batch(seed, k, B, T), fresh windows at every
// step (the dataset holds num_steps·B examples), and a resumed run continues with the batches it
// would have had. Evaluation windows (`sequential`) are those of TokenDataset::sequential_batch: they
// start at 0, T, 2T, ..., so every token of the file but the first is a target exactly once (up to
// the incomplete last window).
#pragma once

#include <cstdint>
#include <string>

#include "xlstm/data/dataset.h"
#include "xlstm/data/sequence_dataset.h"

namespace xlstm::data {

class TokenWindows : public SequenceDataset {
 public:
  // num_steps·batch_size random windows of T + 1 tokens (DataError when the file is shorter).
  static TokenWindows random(TokenDataset tokens, int64_t seq_len, uint64_t seed, int64_t batch_size, int64_t num_steps);
  // The (N - 1) / T sequential windows (DataError when there is none).
  static TokenWindows sequential(TokenDataset tokens, int64_t seq_len);

  int64_t size() const override { return count_; }
  int64_t sequence_length() const override { return seq_len_; }
  Example get(int64_t index) const override;
  int64_t ignore_index() const override { return -100; }  // no target is ignored
  double chance_accuracy() const override { return 1.0 / static_cast<double>(tokens_.vocab_size()); }
  std::string description() const override;  // e.g. "train.bin, 1233562 tokens, random windows of 256"

 private:
  TokenWindows(TokenDataset tokens, int64_t seq_len, bool random, uint64_t seed, int64_t batch_size, int64_t count);

  TokenDataset tokens_;
  int64_t seq_len_;
  bool random_;
  uint64_t seed_;
  int64_t batch_size_;
  int64_t count_;
};

}  // namespace xlstm::data
