// The generated Unicode data of the tokenizer (unicode_tables.cpp, written by
// generate_unicode_tables.py): letter/number classes, combining classes and canonical decompositions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace xlstm::tokenizer::unicode::tables {

struct ClassRange {
  char32_t first, last;
  uint8_t value;
};
struct Decomposition {
  char32_t code_point, first, second;  // second == 0: a singleton decomposition
  uint8_t composes;                    // 1: first + second recompose to code_point under NFC
};

extern const char kUnicodeVersion[];        // of the letter / number classes
extern const char kNormalizationVersion[];  // of the combining classes and decompositions
extern const ClassRange kCharClasses[];  // sorted, disjoint; value 1 = letter, 2 = number
extern const size_t kCharClassesSize;
extern const ClassRange kCombiningClasses[];  // sorted, disjoint; value = canonical combining class
extern const size_t kCombiningClassesSize;
extern const Decomposition kDecompositions[];  // sorted by code_point
extern const size_t kDecompositionsSize;

}  // namespace xlstm::tokenizer::unicode::tables
