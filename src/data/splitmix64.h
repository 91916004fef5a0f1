// SplitMix64 (Steele, Lea, Flood 2014): the fixed, platform-independent generator of the data layer's
// seeded choices (document split, training windows), so results do not depend on the standard library.
#pragma once

#include <cstdint>

namespace xlstm::data {

// The output for counter value x (a stateless hash of x).
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The next output of the stream with `state`.
inline uint64_t splitmix64_next(uint64_t& state) {
  const uint64_t out = splitmix64(state);
  state += 0x9E3779B97F4A7C15ull;
  return out;
}

}  // namespace xlstm::data
