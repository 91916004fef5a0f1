// RepeatedSegmentDataset: a seeded random segment per example, repeated.
#include "xlstm/data/repeated_segments.h"

#include <stdexcept>

#include "xlstm/data/error.h"
#include "xlstm/data/rng.h"

namespace xlstm::data {

RepeatedSegmentDataset::RepeatedSegmentDataset(int64_t size, int64_t sequence_length, int64_t vocab_size,
                                               int64_t period, uint64_t seed)
    : size_(size), length_(sequence_length), vocab_(vocab_size), period_(period), seed_(seed) {
  const auto check = [](bool ok, const std::string& what) {
    if (!ok) throw DataError("repeated-segment data: " + what);
  };
  check(size > 0, "size " + std::to_string(size) + " must be positive");
  check(sequence_length > 0, "sequence_length " + std::to_string(sequence_length) + " must be positive");
  check(vocab_size >= 2, "vocab_size " + std::to_string(vocab_size) + " must be 2 or more");
  check(period > 0 && period <= sequence_length,
        "period " + std::to_string(period) + " is not in [1, sequence_length " + std::to_string(sequence_length) + "]");
}

Example RepeatedSegmentDataset::get(int64_t index) const {
  if (index < 0 || index >= size_)
    throw std::out_of_range("repeated-segment data: example " + std::to_string(index) + " of " + std::to_string(size_));
  Rng rng(seed_ + static_cast<uint64_t>(index));
  std::vector<int64_t> segment(static_cast<size_t>(period_));
  for (auto& token : segment) token = rng.uniform_int(0, vocab_ - 1);
  Example e;
  for (int64_t t = 0; t < length_; ++t) {
    e.input.push_back(segment[static_cast<size_t>(t % period_)]);
    e.target.push_back(segment[static_cast<size_t>((t + 1) % period_)]);
  }
  return e;
}

std::string RepeatedSegmentDataset::description() const {
  return "repeated random segments of " + std::to_string(period_) + " tokens, vocabulary " + std::to_string(vocab_);
}

}  // namespace xlstm::data
