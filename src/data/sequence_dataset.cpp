// Batching of dataset examples into int64 tensors.
#include "xlstm/data/sequence_dataset.h"

#include <stdexcept>

namespace xlstm::data {

Batch make_batch(const SequenceDataset& dataset, int64_t first, int64_t count) {
  if (first < 0 || count <= 0 || first > dataset.size() - count)
    throw std::out_of_range("make_batch: examples [" + std::to_string(first) + ", " + std::to_string(first + count) +
                            ") are not in a dataset of " + std::to_string(dataset.size()));
  const int64_t length = dataset.sequence_length();
  auto inputs = torch::empty({count, length}, torch::kLong);
  auto targets = torch::empty({count, length}, torch::kLong);
  auto* in = inputs.data_ptr<int64_t>();
  auto* tg = targets.data_ptr<int64_t>();
  for (int64_t i = 0; i < count; ++i) {
    const Example example = dataset.get(first + i);
    if (static_cast<int64_t>(example.input.size()) != length || static_cast<int64_t>(example.target.size()) != length)
      throw std::logic_error("make_batch: example " + std::to_string(first + i) + " is not of length " +
                             std::to_string(length));
    std::copy(example.input.begin(), example.input.end(), in + i * length);
    std::copy(example.target.begin(), example.target.end(), tg + i * length);
  }
  return {inputs, targets};
}

Batch trim_to_last_target(const Batch& batch, int64_t ignore_index) {
  const int64_t S = batch.targets.size(1);
  const auto has_target = batch.targets.ne(ignore_index).any(0);  // (S)
  const auto positions = has_target.nonzero();
  const int64_t length = positions.size(0) ? positions[-1][0].item<int64_t>() + 1 : 1;
  if (length == S) return batch;
  return {batch.inputs.narrow(1, 0, length).contiguous(), batch.targets.narrow(1, 0, length).contiguous()};
}

}  // namespace xlstm::data
