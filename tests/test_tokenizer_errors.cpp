// Malformed tokenizer files and bad input: every error names the file, the field or line, and what is
// wrong.
#include <gtest/gtest.h>

#include <functional>

#include "tokenizer_testing.h"
#include "xlstm/tokenizer/pre_tokenizer.h"
#include "xlstm/tokenizer/tokenizer.h"

namespace xlstm::testing {
namespace {

using tokenizer::Tokenizer;
using tokenizer::TokenizerError;

// The message of the TokenizerError that `f` throws ("" when it does not throw).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const TokenizerError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_ERROR_HAS(call, ...)                                              \
  do {                                                                          \
    const std::string _m = error_of([&] { (void)(call); });                     \
    ASSERT_FALSE(_m.empty()) << #call " did not throw";                          \
    for (const char* _part : {__VA_ARGS__}) EXPECT_NE(_m.find(_part), std::string::npos) << _m; \
  } while (0)

struct Gpt2Files {
  TempDir dir;
  std::string encoder = dir.file("encoder.json"), merges = dir.file("vocab.bpe");
  Gpt2Files(const std::string& encoder_text, const std::string& merges_text) {
    write_bytes(encoder, encoder_text);
    write_bytes(merges, merges_text);
  }
  Tokenizer load() const { return Tokenizer::from_gpt2_files(encoder, merges); }
};

TEST(TokenizerErrors, SmallFilesWork) {
  // The fixtures of the error tests are valid as written (byte ids are the byte values).
  const Gpt2Files files(small_vocab().dump(), small_merges_text());
  EXPECT_EQ(files.load().encode("hello hell"), (std::vector<int64_t>{259, 32, 258}));
  TempDir dir;
  write_bytes(dir.file("t.json"), small_tokenizer_json().dump());
  EXPECT_EQ(Tokenizer::from_path(dir.file("t.json")).encode("hello<|endoftext|>"), (std::vector<int64_t>{259, 260}));
}

TEST(TokenizerErrors, MissingPaths) {
  TempDir dir;
  EXPECT_ERROR_HAS(Tokenizer::from_path(dir.file("nothing")), "nothing", "no such file or folder");
  EXPECT_ERROR_HAS(Tokenizer::from_path(dir.path()), "neither tokenizer.json nor encoder.json and vocab.bpe");
  write_bytes(dir.file("encoder.json"), small_vocab().dump());
  EXPECT_ERROR_HAS(Tokenizer::from_gpt2_files(dir.file("encoder.json"), dir.file("vocab.bpe")), "vocab.bpe: no such file");
  EXPECT_ERROR_HAS(Tokenizer::from_tokenizer_json(dir.path()), "not a regular file");
}

TEST(TokenizerErrors, EncoderJson) {
  EXPECT_ERROR_HAS(Gpt2Files("{\"a\": 1,", small_merges_text()).load(), "encoder.json", "is not valid JSON");
  EXPECT_ERROR_HAS(Gpt2Files("[1, 2]", small_merges_text()).load(), "encoder.json", "expected an object");
  json vocab = small_vocab();
  vocab["x"] = -3;
  EXPECT_ERROR_HAS(Gpt2Files(vocab.dump(), small_merges_text()).load(), "encoder.json", "\"x\"", "expected a token id", "-3");
  vocab["x"] = "7";
  EXPECT_ERROR_HAS(Gpt2Files(vocab.dump(), small_merges_text()).load(), "\"x\"", "expected a token id");
  vocab["x"] = 256;
  EXPECT_ERROR_HAS(Gpt2Files(vocab.dump(), small_merges_text()).load(), "encoder.json", "both have the id 256");
  EXPECT_ERROR_HAS(Gpt2Files("{\"a\": 1, \"a\": 2}", small_merges_text()).load(), "encoder.json", "more than once");
}

TEST(TokenizerErrors, VocabBpe) {
  const std::string vocab = small_vocab().dump();
  EXPECT_ERROR_HAS(Gpt2Files(vocab, "#version: 0.2\nh e\nll\n").load(), "vocab.bpe line 3", "two tokens", "\"ll\"");
  EXPECT_ERROR_HAS(Gpt2Files(vocab, "h e\n\nl l\n").load(), "vocab.bpe line 2", "two tokens");
  EXPECT_ERROR_HAS(Gpt2Files(vocab, "h e\nh  e\n").load(), "vocab.bpe line 2");
  EXPECT_ERROR_HAS(Gpt2Files(vocab, "h e\nhe zz\n").load(), "vocab.bpe line 2", "\"zz\"", "not in the vocabulary");
  // Both parts exist but their concatenation does not.
  EXPECT_ERROR_HAS(Gpt2Files(vocab, "h e\nhe he\n").load(), "vocab.bpe line 2", "\"hehe\"", "not in the vocabulary");
  EXPECT_ERROR_HAS(Gpt2Files(vocab, "h e\n\xff\xfe x\n").load(), "vocab.bpe", "not valid UTF-8");
}

// Loads small_tokenizer_json() after `edit` and returns the error ("" when it loads).
std::string json_error(const std::function<void(json&)>& edit) {
  TempDir dir;
  json t = small_tokenizer_json();
  edit(t);
  write_bytes(dir.file("tokenizer.json"), t.dump());
  return error_of([&] { Tokenizer::from_path(dir.path()); });
}

#define EXPECT_JSON_ERROR(edit, ...)                                                            \
  do {                                                                                         \
    const std::string _m = json_error([](json & t) { edit; });                                 \
    ASSERT_FALSE(_m.empty()) << #edit " was accepted";                                          \
    EXPECT_NE(_m.find("tokenizer.json"), std::string::npos) << _m;                             \
    for (const char* _part : {__VA_ARGS__}) EXPECT_NE(_m.find(_part), std::string::npos) << _m; \
  } while (0)

TEST(TokenizerErrors, TokenizerJsonModel) {
  TempDir dir;
  write_bytes(dir.file("tokenizer.json"), "{\"model\": ");
  EXPECT_ERROR_HAS(Tokenizer::from_path(dir.path()), "tokenizer.json", "is not valid JSON");
  EXPECT_JSON_ERROR(t.erase("model"), "model: missing");
  EXPECT_JSON_ERROR(t["model"]["type"] = "WordPiece", "model.type", "\"WordPiece\" is not supported (only BPE)");
  EXPECT_JSON_ERROR(t["model"]["dropout"] = 0.1, "model.dropout", "0.1");
  EXPECT_JSON_ERROR(t["model"]["continuing_subword_prefix"] = "##", "model.continuing_subword_prefix");
  EXPECT_JSON_ERROR(t["model"]["byte_fallback"] = true, "model.byte_fallback");
  EXPECT_JSON_ERROR(t["model"]["unk_token"] = "<unk>", "model.unk_token", "\"<unk>\" is not in the vocabulary");
  EXPECT_JSON_ERROR(t["model"]["vocab"] = json::array(), "model.vocab", "expected an object");
  EXPECT_JSON_ERROR(t["model"]["vocab"]["he"] = 1.5, "model.vocab.\"he\"", "expected a token id");
  EXPECT_JSON_ERROR(t["model"]["merges"] = "h e", "model.merges", "expected an array");
  EXPECT_JSON_ERROR(t["model"]["merges"][1] = "ll", "model.merges[1]", "two tokens");
  EXPECT_JSON_ERROR(t["model"]["merges"][1] = json::array({"l"}), "model.merges[1]", "expected \"a b\" or");
  EXPECT_JSON_ERROR(t["model"]["merges"][2] = json::array({"he", 3}), "model.merges[2][1]", "expected a string");
  EXPECT_JSON_ERROR(t["model"]["merges"][3] = "hell q", "model.merges[3]", "\"hellq\"", "not in the vocabulary");
  EXPECT_JSON_ERROR(t["model"]["merges"][0] = "h x\u00ff\u00ff", "model.merges[0]", "not in the vocabulary");
}

TEST(TokenizerErrors, TokenizerJsonPipeline) {
  EXPECT_JSON_ERROR(t["normalizer"] = (json{{"type", "Lowercase"}}), "normalizer.type", "\"Lowercase\" is not supported");
  EXPECT_JSON_ERROR(t["normalizer"] = (json{{"type", "Sequence"}, {"normalizers", json::array({json{{"type", "NFC"}}, json{{"type", "NFKC"}}})}}),
                    "normalizer.normalizers[1].type", "\"NFKC\"");
  EXPECT_JSON_ERROR(t["pre_tokenizer"] = nullptr, "pre_tokenizer", "ByteLevel");
  EXPECT_JSON_ERROR(t["pre_tokenizer"] = (json{{"type", "Whitespace"}}), "pre_tokenizer.type", "\"Whitespace\" is not supported");
  EXPECT_JSON_ERROR(t["pre_tokenizer"] = (json{{"type", "Split"}, {"pattern", json{{"Regex", "\\s+"}}}, {"behavior", "Isolated"}}),
                    "pre_tokenizer.pattern", "only the GPT-2 regex");
  EXPECT_JSON_ERROR(t["pre_tokenizer"] = (json{{"type", "Sequence"}, {"pretokenizers", json::array({json{{"type", "Split"},
                    {"pattern", json{{"Regex", tokenizer::kGpt2Pattern}}}, {"behavior", "Isolated"}}})}}),
                    "pre_tokenizer", "has no ByteLevel step");
  EXPECT_JSON_ERROR(t["pre_tokenizer"]["add_prefix_space"] = "yes", "pre_tokenizer.add_prefix_space", "expected true or false");
  EXPECT_JSON_ERROR(t.erase("decoder"), "decoder", "missing");
  EXPECT_JSON_ERROR(t["decoder"] = (json{{"type", "WordPiece"}}), "decoder.type", "\"WordPiece\"");
  EXPECT_JSON_ERROR(t["post_processor"] = (json{{"type", "BertProcessing"}}), "post_processor.type", "\"BertProcessing\"");
  EXPECT_JSON_ERROR(t["post_processor"] = (json{{"type", "TemplateProcessing"}, {"single", json::array({json{{"SpecialToken", json{{"id", "<s>"}}}}})},
                    {"special_tokens", json::object()}}), "post_processor.special_tokens.<s>: missing");
  EXPECT_JSON_ERROR(t["post_processor"] = (json{{"type", "TemplateProcessing"}, {"single", json::array()}, {"special_tokens", json::object()}}),
                    "post_processor.single", "sequence A");
  EXPECT_JSON_ERROR(t["post_processor"] = (json{{"type", "TemplateProcessing"},
                    {"single", json::array({json{{"SpecialToken", json{{"id", "<s>"}}}}, json{{"Sequence", json{{"id", "A"}}}}})},
                    {"special_tokens", json{{"<s>", json{{"ids", json::array({999})}}}}}}), "post_processor", "999");
}

TEST(TokenizerErrors, TokenizerJsonAddedTokens) {
  EXPECT_JSON_ERROR(t["added_tokens"] = json::object(), "added_tokens", "expected an array");
  EXPECT_JSON_ERROR(t["added_tokens"][0]["single_word"] = true, "added_tokens[0].single_word", "not supported");
  EXPECT_JSON_ERROR(t["added_tokens"][0]["content"] = "", "added_tokens[0].content", "cannot be empty");
  EXPECT_JSON_ERROR(t["added_tokens"][0].erase("id"), "added_tokens[0].id: missing");
  EXPECT_JSON_ERROR(t["added_tokens"].push_back(t["added_tokens"][0]), "added_tokens[1]", "listed twice");
}

TEST(TokenizerErrors, BadInput) {
  const Gpt2Files files(small_vocab().dump(), small_merges_text());
  const Tokenizer tok = files.load();
  EXPECT_ERROR_HAS(tok.encode("ok \xC3("), "not valid UTF-8", "byte 3");
  EXPECT_ERROR_HAS(tok.decode({1, 260}), "cannot decode the id 260", "encoder.json");
  EXPECT_ERROR_HAS(tok.decode({-1}), "the id -1");
  EXPECT_ERROR_HAS(tok.id_to_token(1000), "1000");
  EXPECT_EQ(tok.token_to_id("nope"), std::nullopt);
}

}  // namespace
}  // namespace xlstm::testing
