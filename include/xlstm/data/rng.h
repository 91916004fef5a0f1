// The seeded random number generator of the data generators: xoshiro256** seeded through SplitMix64,
// so that nearby seeds (base_seed + index, one per example) give unrelated streams. Self-contained,
// so generated data never depends on torch's or the C++ library's RNG state or version.
#pragma once

#include <cstdint>

namespace xlstm::data {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t next_u64();
  // Uniform integer in [lo, hi] (inclusive, lo <= hi), without modulo bias.
  int64_t uniform_int(int64_t lo, int64_t hi);
  // Uniform double in [0, 1).
  double uniform();

 private:
  uint64_t s_[4];
};

}  // namespace xlstm::data
