// The data interface of the training library: a dataset of fixed-length (input, target) token
// sequences addressed by index, so that batch k is a pure function of k (exact resumption, no data
// loader state), and the batching of examples into tensors.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace xlstm::data {

struct Example {
  std::vector<int64_t> input;   // sequence_length() token ids
  std::vector<int64_t> target;  // sequence_length() token ids, ignore_index() where there is no loss
};

class SequenceDataset {
 public:
  virtual ~SequenceDataset() = default;
  virtual int64_t size() const = 0;             // number of examples
  virtual int64_t sequence_length() const = 0;  // length of every input and target
  virtual Example get(int64_t index) const = 0;  // 0 <= index < size(); deterministic
  virtual int64_t ignore_index() const = 0;     // target value without loss
  virtual double chance_accuracy() const = 0;   // accuracy of guessing among the possible answers
  virtual std::string description() const = 0;  // e.g. "parity, lengths 40-256"
};

struct NamedDataset {
  std::string name;  // e.g. "validation"
  std::shared_ptr<const SequenceDataset> data;
};

struct Batch {
  torch::Tensor inputs;   // (count, S) int64, CPU
  torch::Tensor targets;  // (count, S) int64, CPU
};

// Examples [first, first + count) stacked into a batch (std::out_of_range outside the dataset).
Batch make_batch(const SequenceDataset& dataset, int64_t first, int64_t count);

// The batch without its trailing positions at which no example has a target (at least one position
// kept); the batch itself when the last position has one. For causal models the loss and every
// gradient are those of the whole batch, since no kept position sees a dropped one: the formal-language
// tasks pad 3-40 tokens to 255, whose dropped tail is 85% of the work.
Batch trim_to_last_target(const Batch& batch, int64_t ignore_index);

}  // namespace xlstm::data
