// parity (tasks/parity.py): the answer is the number of content tokens equal to 2 (for V = 3), mod 2.
#include "xlstm/data/formal_tasks.h"

namespace xlstm::data {

FormalSequence parity(const FormalTaskParams& p, Rng& rng) {
  FormalSequence seq{std::vector<int64_t>(static_cast<size_t>(p.context_length), 0),
                     std::vector<uint8_t>(static_cast<size_t>(p.context_length), 0)};
  const int64_t size = rng.uniform_int(p.min_sequence_length, p.max_sequence_length);
  int64_t sum = 0;
  for (int64_t i = 0; i < size - 1; ++i) sum += seq.tokens[i] = rng.uniform_int(1, p.vocab_size - 1);
  seq.tokens[size - 1] = (sum - (size - 1)) % (p.vocab_size - 1) + 1;
  seq.mask[size - 1] = 1;
  return seq;
}

}  // namespace xlstm::data
