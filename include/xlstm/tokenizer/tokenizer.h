// A byte-level BPE tokenizer (GPT-2, GPT-NeoX / xLSTM-7B) that gives the ids of the reference
// implementations: OpenAI's GPT-2 encoder for encoder.json + vocab.bpe, Hugging Face `tokenizers` for
// tokenizer.json files of BPE type.
//
//   auto tok = xlstm::tokenizer::Tokenizer::from_path("gpt2/");   // or ".../tokenizer.json"
//   std::vector<int64_t> ids = tok.encode("Hello world");          // {15496, 995}
//   std::string text = tok.decode(ids);                            // "Hello world"
//
// Encoding: added tokens (tokenizer.json only; e.g. <|endoftext|>) are found first as whole strings,
// the rest is normalized (none or NFC), split by the pre-tokenizer (the GPT-2 regex, pre_tokenizer.h),
// and each piece's UTF-8 bytes are merged by BPE. With encoder.json + vocab.bpe nothing is special:
// "<|endoftext|>" in the text is encoded as ordinary characters, as GPT-2's encoder does; use
// token_to_id("<|endoftext|>") to get its id.
//
// What a tokenizer.json may hold (anything else is a TokenizerError naming the file and field):
//   model          BPE: vocab, merges ("a b" strings or [a, b] pairs), unk_token, fuse_unk,
//                  ignore_merges; dropout null or 0; no continuing_subword_prefix / end_of_word_suffix
//                  / byte_fallback
//   normalizer     null, NFC, or a Sequence of those
//   pre_tokenizer  ByteLevel (add_prefix_space, use_regex), Split with the GPT-2 pattern and behavior
//                  Isolated, or a Sequence of those; a ByteLevel one is required
//   post_processor null, ByteLevel, TemplateProcessing (its "single" template), or a Sequence of those
//   decoder        ByteLevel
//   added_tokens   content, id, special, normalized, lstrip, rstrip (single_word must be false)
// truncation and padding settings are ignored. Instances are cheap to copy and safe to use from
// several threads (the per-piece cache is locked).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xlstm/tokenizer/error.h"

namespace xlstm::tokenizer {

class Tokenizer {
 public:
  // A tokenizer.json file, or a folder holding tokenizer.json, or encoder.json and vocab.bpe.
  static Tokenizer from_path(const std::string& path);
  static Tokenizer from_gpt2_files(const std::string& encoder_json, const std::string& vocab_bpe);
  static Tokenizer from_tokenizer_json(const std::string& path);

  // The ids of valid UTF-8 `text` (TokenizerError naming the byte offset otherwise). With
  // add_special_tokens the post-processor's template is applied (e.g. a leading BOS token), as
  // `tokenizers`' encode does by default.
  std::vector<int64_t> encode(std::string_view text, bool add_special_tokens = true) const;

  // The text of `ids`: their bytes joined, with U+FFFD for every invalid UTF-8 sequence (a partial
  // character at either end, for instance). TokenizerError for an id that is not in the vocabulary.
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = false) const;

  int64_t vocab_size() const;  // the largest id + 1
  std::optional<int64_t> token_to_id(const std::string& token) const;  // vocabulary or added token
  std::string id_to_token(int64_t id) const;                          // TokenizerError when unknown
  const std::string& source() const;                                  // the file(s) it was read from

  struct Impl;
  explicit Tokenizer(std::shared_ptr<const Impl> impl);

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace xlstm::tokenizer
