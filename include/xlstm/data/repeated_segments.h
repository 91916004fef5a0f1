// Synthetic language-model data for throughput and scaling runs without a corpus: each example is a
// random segment of `period` tokens from [0, vocab_size) repeated to fill sequence_length + 1
// tokens; input = tokens [0, S), target = tokens [1, S] (every position is a target). The first
// period - 1 targets are unpredictable, the rest copy earlier tokens, so the loss starts near
// ln(vocab_size) and falls as the model learns to recall. Deterministic from (seed, index).
#pragma once

#include <cstdint>
#include <string>

#include "xlstm/data/sequence_dataset.h"

namespace xlstm::data {

class RepeatedSegmentDataset : public SequenceDataset {
 public:
  // DataError naming the argument when a size is not positive, vocab_size < 2 or period > sequence_length.
  RepeatedSegmentDataset(int64_t size, int64_t sequence_length, int64_t vocab_size, int64_t period, uint64_t seed);

  int64_t size() const override { return size_; }
  int64_t sequence_length() const override { return length_; }
  Example get(int64_t index) const override;
  int64_t ignore_index() const override { return -100; }
  double chance_accuracy() const override { return 1.0 / static_cast<double>(vocab_); }
  std::string description() const override;

 private:
  int64_t size_, length_, vocab_, period_;
  uint64_t seed_;
};

}  // namespace xlstm::data
