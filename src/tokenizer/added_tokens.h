// Added tokens of a tokenizer.json (special tokens such as <|endoftext|>, and others): found in the
// text as whole strings before pre-tokenization, the way `tokenizers` does it. Matching is
// leftmost-longest; lstrip / rstrip extend a match over the whitespace before / after it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace xlstm::tokenizer {

struct AddedToken {
  std::string content;
  int64_t id = 0;
  bool special = false;
  bool normalized = false;  // matched in the normalized text (else in the raw text)
  bool lstrip = false;
  bool rstrip = false;
};

// A part of the text: an added token (id >= 0) or text for the model (id < 0).
struct Segment {
  std::string_view text;
  int64_t id = -1;
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);  // those to match (all non-empty)

  bool empty() const { return tokens_.empty(); }
  // Splits `text` into added tokens and the text between them (no empty text segments).
  std::vector<Segment> split(std::string_view text) const;

 private:
  std::vector<AddedToken> tokens_;                 // longest first
  std::vector<std::vector<size_t>> by_first_byte_;  // [256]: indices into tokens_, longest first
};

}  // namespace xlstm::tokenizer
