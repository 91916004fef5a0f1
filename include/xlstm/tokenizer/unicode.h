// Unicode support of the tokenizer: UTF-8 decoding and encoding, lossy conversion of byte strings
// (one U+FFFD per maximal invalid subsequence, as Python's, Rust's and the WHATWG decoders do), the
// character classes of the GPT-2 pre-tokenizer regex (\p{L}, \p{N}, \s) and NFC normalization.
// The letter, number, combining-class and decomposition data are generated from the Unicode Character
// Database (src/tokenizer/generate_unicode_tables.py) in the versions that the reference, Hugging Face
// `tokenizers` 0.23.3, uses: Unicode 16.0 for the letter and number classes (its regex library,
// Oniguruma) and Unicode 9.0 for NFC (its normalization crate): unicode_version() and
// normalization_unicode_version().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace xlstm::tokenizer::unicode {

inline constexpr char32_t kReplacementCharacter = 0xFFFD;

// One step of UTF-8 decoding at s[pos] (pos < s.size()). Valid: the code point and its 1..4 bytes.
// Invalid: `length` is the maximal subpart to replace by one U+FFFD (at least 1 byte).
struct Utf8Step {
  char32_t code_point = 0;
  uint8_t length = 1;
  bool valid = false;
};
Utf8Step decode_utf8(std::string_view s, size_t pos);

void append_utf8(std::string& out, char32_t code_point);

// Offset of the first byte that is not part of valid UTF-8, or std::string_view::npos.
size_t find_invalid_utf8(std::string_view s);

// `bytes` with every maximal invalid subsequence replaced by U+FFFD.
std::string to_valid_utf8(std::string_view bytes);

// General category L* (\p{L}), N* (\p{N}), and the White_Space property (\s of Oniguruma, of Python's
// `regex` and of Rust's char::is_whitespace: 25 code points).
bool is_letter(char32_t c);
bool is_number(char32_t c);
bool is_whitespace(char32_t c);

// Canonical combining class (0 for starters).
uint8_t combining_class(char32_t c);

// Unicode Normalization Form C of valid UTF-8 text (canonical decomposition, canonical ordering,
// canonical composition; Hangul syllables algorithmically), with the data of Unicode 9.0: characters
// assigned later are starters without decomposition, as in `tokenizers`.
std::string nfc(std::string_view text);

// The Unicode versions of the generated tables: "16.0.0" (letters, numbers) and "9.0.0" (NFC).
const char* unicode_version();
const char* normalization_unicode_version();

}  // namespace xlstm::tokenizer::unicode
