// even_pairs (tasks/even_pairs.py): for V = 3 a binary string has as many "12" as "21" pairs iff its
// first and last tokens are equal; the answer is |last - first| + 1.
#include <cstdlib>

#include "xlstm/data/formal_tasks.h"

namespace xlstm::data {

FormalSequence even_pairs(const FormalTaskParams& p, Rng& rng) {
  FormalSequence seq{std::vector<int64_t>(static_cast<size_t>(p.context_length), 0),
                     std::vector<uint8_t>(static_cast<size_t>(p.context_length), 0)};
  const int64_t size = rng.uniform_int(p.min_sequence_length, p.max_sequence_length);
  for (int64_t i = 0; i < size - 1; ++i) seq.tokens[i] = rng.uniform_int(1, p.vocab_size - 1);
  seq.tokens[size - 1] = std::abs(seq.tokens[size - 2] - seq.tokens[0]) + 1;
  seq.mask[size - 1] = 1;
  return seq;
}

}  // namespace xlstm::data
