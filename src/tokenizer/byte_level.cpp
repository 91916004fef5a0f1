// GPT-2's bytes_to_unicode table and the conversions between bytes and token text (byte_level.h).
#include "tokenizer/byte_level.h"

#include <array>

#include "xlstm/tokenizer/unicode.h"

namespace xlstm::tokenizer::byte_level {
namespace {

struct Tables {
  std::array<char32_t, 256> to_char{};
  std::array<int, 0x144> to_byte{};  // the alphabet lies below U+0144
};

const Tables& tables() {
  static const Tables t = [] {
    Tables t;
    t.to_byte.fill(-1);
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t.to_char[b] = printable ? static_cast<char32_t>(b) : next++;
      t.to_byte[t.to_char[b]] = b;
    }
    return t;
  }();
  return t;
}

}  // namespace

char32_t byte_to_char(uint8_t byte) { return tables().to_char[byte]; }

int char_to_byte(char32_t c) { return c < tables().to_byte.size() ? tables().to_byte[c] : -1; }

std::string to_token_text(std::string_view bytes) {
  std::string text;
  text.reserve(bytes.size() * 2);
  for (const char b : bytes) unicode::append_utf8(text, byte_to_char(static_cast<uint8_t>(b)));
  return text;
}

std::string to_bytes(std::string_view token_text) {
  std::string bytes;
  for (size_t pos = 0; pos < token_text.size();) {
    const unicode::Utf8Step step = unicode::decode_utf8(token_text, pos);
    const int b = step.valid ? char_to_byte(step.code_point) : -1;
    if (b < 0) return std::string(token_text);
    bytes += static_cast<char>(b);
    pos += step.length;
  }
  return bytes;
}

}  // namespace xlstm::tokenizer::byte_level
