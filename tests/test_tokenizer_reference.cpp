// The tokenizer against its references: GPT-2's test vectors (shared/data/gpt2, made with the
// gpt-3-encoder package) and the vectors of Hugging Face `tokenizers` 0.23.3 for three tokenizer.json
// variants (tests/data/tokenizer, made by generate_vectors.py): encode and decode, every vector.
#include <gtest/gtest.h>

#include "tokenizer_testing.h"
#include "xlstm/tokenizer/tokenizer.h"
#include "xlstm/tokenizer/unicode.h"

namespace xlstm::testing {
namespace {

using tokenizer::Tokenizer;

// Checks every encode and decode vector of a file; returns how many were checked.
size_t expect_vectors(const Tokenizer& tok, const std::string& path, bool skip_special_texts = false) {
  size_t checked = 0;
  for (const json& v : read_jsonl(path)) {
    const std::string text = v["text"].get<std::string>();
    if (v.contains("decode")) {
      EXPECT_EQ(tok.decode(v["decode"].get<std::vector<int64_t>>()), text) << v["decode"].dump();
    } else {
      if (skip_special_texts && text.find("<|endoftext|>") != std::string::npos) continue;
      EXPECT_EQ(tok.encode(text), v["ids"].get<std::vector<int64_t>>()) << json(text).dump();
    }
    ++checked;
  }
  return checked;
}

TEST(TokenizerReference, Gpt2TestVectors) {
  const Tokenizer tok = Tokenizer::from_path(gpt2_dir());
  EXPECT_EQ(tok.vocab_size(), 50257);
  EXPECT_EQ(expect_vectors(tok, gpt2_dir() + "/test_vectors.jsonl"), 258u);
}

TEST(TokenizerReference, Gpt2FilesMatchTokenizersOnAllTexts) {
  // The same vocabulary through encoder.json + vocab.bpe gives the ids of `tokenizers` (texts with
  // <|endoftext|> excepted: it is special only in tokenizer.json mode).
  const Tokenizer tok = Tokenizer::from_gpt2_files(gpt2_dir() + "/encoder.json", gpt2_dir() + "/vocab.bpe");
  EXPECT_GT(expect_vectors(tok, tokenizer_data("gpt2_vectors.jsonl"), true), 2000u);
  EXPECT_EQ(tok.encode("<|endoftext|>"), (std::vector<int64_t>{27, 91, 437, 1659, 5239, 91, 29}));
  EXPECT_EQ(tok.token_to_id("<|endoftext|>"), 50256);
}

class TokenizerJsonVariant : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerJsonVariant, MatchesTokenizersLibrary) {
  TempDir dir;
  const Tokenizer tok = Tokenizer::from_tokenizer_json(write_variant(dir, GetParam()));
  EXPECT_GT(expect_vectors(tok, tokenizer_data(GetParam() + "_vectors.jsonl")), 500u);
}

INSTANTIATE_TEST_SUITE_P(Tokenizer, TokenizerJsonVariant, ::testing::Values("gpt2", "neox", "prefix"));

TEST(TokenizerReference, DecodeInvertsEncode) {
  TempDir dir;
  const Tokenizer files = Tokenizer::from_path(gpt2_dir());
  const Tokenizer json_tok = Tokenizer::from_path(write_variant(dir, "gpt2"));
  size_t count = 0;
  for (const std::string& path : {tokenizer_data("gpt2_vectors.jsonl"), tokenizer_data("neox_vectors.jsonl")})
    for (const json& v : read_jsonl(path)) {
      if (v.contains("decode")) continue;
      const std::string text = v["text"].get<std::string>();
      EXPECT_EQ(files.decode(files.encode(text)), text) << json(text).dump();
      EXPECT_EQ(json_tok.decode(json_tok.encode(text)), text) << json(text).dump();
      ++count;
    }
  EXPECT_GT(count, 3000u);
}

TEST(TokenizerReference, NeoxSpecialTokensAndTemplate) {
  TempDir dir;
  const Tokenizer tok = Tokenizer::from_path(write_variant(dir, "neox"));
  EXPECT_EQ(tok.vocab_size(), 50264);
  // The template adds <|endoftext|> in front unless asked not to; special tokens are skipped on request.
  const std::vector<int64_t> ids = tok.encode("Hello<|padding|>");
  EXPECT_EQ(ids, (std::vector<int64_t>{50256, 15496, 50257}));
  EXPECT_EQ(tok.encode("Hello<|padding|>", false), (std::vector<int64_t>{15496, 50257}));
  EXPECT_EQ(tok.decode(ids), "<|endoftext|>Hello<|padding|>");
  EXPECT_EQ(tok.decode(ids, true), "Hello");
  // A normalized added token matches after NFC: "cafe" + U+0301 + "!" is the token "café!".
  EXPECT_EQ(tok.encode("cafe\xCC\x81!", false), (std::vector<int64_t>{50262}));
  EXPECT_EQ(tok.id_to_token(50262), "caf\xC3\xA9!");
}

}  // namespace
}  // namespace xlstm::testing
