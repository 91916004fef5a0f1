// What a loaded tokenizer consists of (filled by the loaders in gpt2_files.cpp and
// tokenizer_json.cpp, used by tokenizer.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_model.h"
#include "xlstm/tokenizer/tokenizer.h"

namespace xlstm::tokenizer {

enum class Normalizer { none, nfc };

struct PreTokenizerStep {
  enum class Kind { split_gpt2, byte_level } kind = Kind::byte_level;
  bool add_prefix_space = false;  // byte_level: prepend " " to a piece that does not start with one
  bool use_regex = true;          // byte_level: split with the GPT-2 regex
};

struct Tokenizer::Impl {
  std::string source;
  std::unique_ptr<BpeModel> model;
  Normalizer normalizer = Normalizer::none;
  std::vector<PreTokenizerStep> pre_tokenizers{PreTokenizerStep{}};
  std::vector<AddedToken> added_tokens;
  AddedTokenMatcher raw_matcher, normalized_matcher;  // added tokens with normalized false / true
  std::vector<int64_t> prefix_ids, suffix_ids;        // the post-processor's template around the text

  // Derived by finish(): every id's token text and bytes, which ids are special, the reverse map.
  std::vector<std::string> tokens;
  std::vector<std::string> token_bytes;
  std::vector<uint8_t> known, special;
  std::unordered_map<std::string, int64_t> added_ids;

  // Builds the matchers and the derived tables from model and added_tokens.
  void finish();
};

}  // namespace xlstm::tokenizer
