// cycle_navigation (tasks/cycle_navigation.py): walk a cycle of V - 2 - 2s positions from position 0
// with steps in [-s, s] (s = max_step_size); the answer is the final position, offset by 2s + 2.
#include <algorithm>

#include "xlstm/data/formal_tasks.h"

namespace xlstm::data {

FormalSequence cycle_navigation(const FormalTaskParams& p, Rng& rng) {
  FormalSequence seq{std::vector<int64_t>(static_cast<size_t>(p.context_length), 0),
                     std::vector<uint8_t>(static_cast<size_t>(p.context_length), 0)};
  const int64_t step = std::min(p.vocab_size / 2, p.max_step_size);
  const int64_t cycle = p.vocab_size - 2 - 2 * step;
  const int64_t size = rng.uniform_int(p.min_sequence_length, p.max_sequence_length);
  int64_t position = 0;
  for (int64_t i = 0; i < size - 1; ++i) {
    const int64_t token = rng.uniform_int(1, 2 * step + 1);
    seq.tokens[i] = token;
    position += token <= step + 1 ? token - 1 : step + 1 - token;  // 1 -> 0, 2 -> +1, 3 -> -1 for s = 1
  }
  seq.tokens[size - 1] = ((position % cycle) + cycle) % cycle + 2 * step + 2;
  seq.mask[size - 1] = 1;
  return seq;
}

}  // namespace xlstm::data
