// The GPT-2 pre-tokenizer regex, evaluated by hand (see pre_tokenizer.h for the pattern).
#include "xlstm/tokenizer/pre_tokenizer.h"

#include "xlstm/tokenizer/unicode.h"

namespace xlstm::tokenizer {
namespace {

enum class Kind { letter, number, space, other };

Kind kind_of(char32_t c) {
  if (unicode::is_letter(c)) return Kind::letter;
  if (unicode::is_number(c)) return Kind::number;
  if (unicode::is_whitespace(c)) return Kind::space;
  return Kind::other;
}

struct Char {
  char32_t code_point;
  size_t length;
  Kind kind;
};

Char char_at(std::string_view text, size_t pos) {
  const unicode::Utf8Step step = unicode::decode_utf8(text, pos);
  const char32_t c = step.valid ? step.code_point : unicode::kReplacementCharacter;
  return {c, step.length, kind_of(c)};
}

// End of the run of characters of `kind` starting at pos (pos itself if there is none).
size_t run_end(std::string_view text, size_t pos, Kind kind) {
  while (pos < text.size()) {
    const Char c = char_at(text, pos);
    if (c.kind != kind) break;
    pos += c.length;
  }
  return pos;
}

// Length of a contraction ('s 't 're 've 'm 'll 'd) at pos, or 0.
size_t contraction_length(std::string_view text, size_t pos) {
  if (text[pos] != '\'' || pos + 1 >= text.size()) return 0;
  const char a = text[pos + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (pos + 2 >= text.size()) return 0;
  const char b = text[pos + 2];
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// End of the piece that starts at pos.
size_t piece_end(std::string_view text, size_t pos) {
  if (const size_t n = contraction_length(text, pos)) return pos + n;
  const Char first = char_at(text, pos);
  if (first.kind != Kind::space) return run_end(text, pos, first.kind);
  // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": a single U+0020 before a non-space run.
  const size_t next = pos + first.length;
  if (first.code_point == ' ' && next < text.size()) {
    const Char second = char_at(text, next);
    if (second.kind != Kind::space) return run_end(text, next, second.kind);
  }
  // "\s+(?!\S)": the whitespace run, less its last character when a non-space follows; "\s+" when
  // that leaves nothing (a single whitespace character before a non-space).
  size_t last_start = pos, end = pos;
  while (end < text.size()) {
    const Char c = char_at(text, end);
    if (c.kind != Kind::space) break;
    last_start = end;
    end += c.length;
  }
  if (end == text.size() || last_start == pos) return end;
  return last_start;
}

}  // namespace

std::vector<std::string_view> split_gpt2(std::string_view text) {
  std::vector<std::string_view> pieces;
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = piece_end(text, pos);
    pieces.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return pieces;
}

}  // namespace xlstm::tokenizer
