// The character classes of the pre-tokenizer regex (\p{L}, \p{N}, \s) and canonical combining classes,
// looked up in the generated tables (unicode_tables.cpp) with an ASCII fast path.
#include <algorithm>

#include "tokenizer/unicode_tables.h"
#include "xlstm/tokenizer/unicode.h"

namespace xlstm::tokenizer::unicode {
namespace {

uint8_t range_value(const tables::ClassRange* ranges, size_t size, char32_t c) {
  const tables::ClassRange* end = ranges + size;
  const auto* it = std::upper_bound(ranges, end, c, [](char32_t v, const tables::ClassRange& r) { return v < r.first; });
  if (it == ranges) return 0;
  --it;
  return c <= it->last ? it->value : 0;
}

uint8_t letter_or_number(char32_t c) {
  if (c < 0x80) {
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return 1;
    return c >= '0' && c <= '9' ? 2 : 0;
  }
  return range_value(tables::kCharClasses, tables::kCharClassesSize, c);
}

}  // namespace

bool is_letter(char32_t c) { return letter_or_number(c) == 1; }
bool is_number(char32_t c) { return letter_or_number(c) == 2; }

bool is_whitespace(char32_t c) {
  switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

uint8_t combining_class(char32_t c) {
  if (c < 0x300) return 0;
  return range_value(tables::kCombiningClasses, tables::kCombiningClassesSize, c);
}

const char* unicode_version() { return tables::kUnicodeVersion; }
const char* normalization_unicode_version() { return tables::kNormalizationVersion; }

}  // namespace xlstm::tokenizer::unicode
