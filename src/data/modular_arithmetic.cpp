// modular_arithmetic without brackets (tasks/modular_arithmetic.py): "n op n op ... n = answer" with
// '*' binding tighter than '+' and '-', evaluated modulo V - 5.
#include <algorithm>

#include "xlstm/data/formal_tasks.h"

namespace xlstm::data {
namespace {

constexpr int64_t kPlus = 1, kMinus = 2, kTimes = 3, kEquals = 4, kFirstNumber = 5;

}  // namespace

FormalSequence modular_arithmetic(const FormalTaskParams& p, Rng& rng) {
  FormalSequence seq{std::vector<int64_t>(static_cast<size_t>(p.context_length), 0),
                     std::vector<uint8_t>(static_cast<size_t>(p.context_length), 0)};
  const int64_t modulus = p.vocab_size - kFirstNumber;
  // size = 2k - 1 with k from ceil(min / 2) (at most ceil(max / 2)) to ceil(max / 2).
  const int64_t max_terms = (p.max_sequence_length + 1) / 2;
  const int64_t min_terms = std::min((p.min_sequence_length + 1) / 2, max_terms);
  const int64_t size = 2 * rng.uniform_int(min_terms, max_terms) - 1;

  // Sum of finished products, and the product being built with the sign before it.
  int64_t total = 0, product = 1, sign = 1;
  for (int64_t i = 0; i < size - 2; ++i) {
    if (i % 2 == 0) {
      const int64_t number = rng.uniform_int(kFirstNumber, p.vocab_size - 1);
      seq.tokens[i] = number;
      product *= number - kFirstNumber;
      product %= modulus;  // keeps the value bounded; the result mod V - 5 is unchanged
    } else {
      const int64_t op = rng.uniform_int(kPlus, kTimes);
      seq.tokens[i] = op;
      if (op != kTimes) {
        total = (total + sign * product) % modulus;
        product = 1;
        sign = op == kMinus ? -1 : 1;
      }
    }
  }
  total = (total + sign * product) % modulus;
  seq.tokens[size - 2] = kEquals;
  seq.tokens[size - 1] = (total % modulus + modulus) % modulus + kFirstNumber;
  seq.mask[size - 1] = 1;
  return seq;
}

}  // namespace xlstm::data
