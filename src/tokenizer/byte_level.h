// GPT-2's byte-level alphabet (bytes_to_unicode): every byte stands for one printable character, the
// printable ASCII and Latin-1 bytes for themselves and the others for U+0100 + n, so that vocabulary
// entries are text. Used by the BPE model (bytes -> token text) and the decoder (token text -> bytes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace xlstm::tokenizer::byte_level {

char32_t byte_to_char(uint8_t byte);

// The byte that `c` stands for, or -1 when it is not in the alphabet.
int char_to_byte(char32_t c);

// UTF-8 of the characters that stand for `bytes` (the form of vocabulary entries).
std::string to_token_text(std::string_view bytes);

// The bytes that a token's text stands for. A token with a character outside the alphabet (an added
// token such as "  ") stands for its own UTF-8 bytes, as in the ByteLevel decoder of `tokenizers`.
std::string to_bytes(std::string_view token_text);

}  // namespace xlstm::tokenizer::byte_level
