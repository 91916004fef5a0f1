// The data layer: Brown plain text, token files (round trip and every malformed header), the
// document split, corpus preparation on a few Brown files, and dataset batches.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "temp_dir.h"
#include "testing.h"
#include "xlstm/data/brown.h"
#include "xlstm/data/dataset.h"
#include "xlstm/data/error.h"
#include "xlstm/data/prepare.h"
#include "xlstm/data/token_file.h"

namespace xlstm::testing {
namespace {

std::string data_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const data::DataError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_DATA_ERROR(call, ...)                                                            \
  do {                                                                                         \
    const std::string _m = data_error([&] { (void)(call); });                                  \
    ASSERT_FALSE(_m.empty()) << #call " did not throw";                                         \
    for (const char* _part : {__VA_ARGS__}) EXPECT_NE(_m.find(_part), std::string::npos) << _m; \
  } while (0)

std::string brown_dir() { return shared_dir() + "/data/brown"; }

TEST(CorpusBrown, PlainTextSpacingAndParagraphs) {
  const std::string tagged =
      "\n\n\tHe/pps asked/vbd ,/, ``/`` Could/md we/ppss have/hv a/at drink/nn ''/'' ?/. ?/.\n"
      "It/pps cost/vbd $/nn 1-1/2/cd (/( or/cc so/rb )/) ;/. '/' fine/jj '/' ,/, he'd/pps+md say/vb ./.\n"
      "\n\n\tNew/jj paragraph/nn --/-- indeed/rb !/.\n";
  EXPECT_EQ(data::brown_plain_text(tagged),
            "He asked, \"Could we have a drink\"? It cost $ 1-1/2 (or so); 'fine', he'd say.\n\n"
            "New paragraph -- indeed!\n");
  EXPECT_EQ(data::brown_plain_text("\n\n"), "");
}

TEST(CorpusBrown, RealFile) {
  const std::vector<std::string> docs = data::brown_documents(brown_dir());
  EXPECT_EQ(docs.size(), 500u);
  EXPECT_EQ(docs.front(), "ca01");
  EXPECT_EQ(docs.back(), "cr09");
  const std::string text = data::brown_plain_text(read_bytes(brown_dir() + "/ca01"));
  EXPECT_EQ(text.substr(0, 141),
            "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election "
            "produced \"no evidence\" that any irregularities");
  EXPECT_EQ(text.find('/'), std::string::npos) << "tags left in the text";
  EXPECT_EQ(text.find("  "), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
  TempDir empty;
  EXPECT_DATA_ERROR(data::brown_documents(empty.path()), "no Brown Corpus documents");
  EXPECT_DATA_ERROR(data::brown_documents(empty.file("missing")), "missing", "cannot read the corpus folder");
}

TEST(CorpusTokenFile, RoundTrip) {
  TempDir dir;
  const std::vector<uint16_t> tokens{0, 1, 65535, 300, 7};
  data::write_token_file(dir.file("t.bin"), tokens, 65536);
  const data::TokenFile file(dir.file("t.bin"));
  EXPECT_EQ(file.vocab_size(), 65536);
  ASSERT_EQ(file.size(), 5);
  for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(file[i], tokens[i]);
  EXPECT_EQ(read_bytes(dir.file("t.bin")).size(), data::kTokenFileHeaderBytes + 10);
  data::write_token_file(dir.file("empty.bin"), {}, 10);
  EXPECT_EQ(data::TokenFile(dir.file("empty.bin")).size(), 0);
}

TEST(CorpusTokenFile, Errors) {
  TempDir dir;
  EXPECT_DATA_ERROR(data::write_token_file(dir.file("a.bin"), {1, 9}, 9), "a.bin", "token 1 is 9", "vocabulary size 9");
  EXPECT_DATA_ERROR(data::write_token_file(dir.file("a.bin"), {1}, 70000), "70000", "65536");
  EXPECT_DATA_ERROR(data::TokenFile(dir.file("none.bin")), "none.bin", "cannot open");
  data::write_token_file(dir.file("good.bin"), {1, 2, 3}, 50257);
  const std::string good = read_bytes(dir.file("good.bin"));
  const auto broken = [&](size_t offset, const std::string& bytes) {
    std::string b = good;
    b.replace(offset, bytes.size(), bytes);
    write_bytes(dir.file("bad.bin"), b);
    return dir.file("bad.bin");
  };
  EXPECT_DATA_ERROR(data::TokenFile(broken(0, "XLSTMTOX")), "bad.bin", "magic");
  EXPECT_DATA_ERROR(data::TokenFile(broken(8, std::string("\x02\0\0\0", 4))), "version 2");
  EXPECT_DATA_ERROR(data::TokenFile(broken(12, std::string("\0\0\0\0", 4))), "vocabulary size 0");
  EXPECT_DATA_ERROR(data::TokenFile(broken(16, std::string("\x04\0\0\0\0\0\0\0", 8))), "says 4 tokens", "has 38 bytes");
  EXPECT_DATA_ERROR(data::TokenFile(broken(16, std::string(8, '\xff'))), "tokens");
  EXPECT_DATA_ERROR(data::TokenFile(broken(24, std::string("\x04\0\0\0", 4))), "4 bytes per token");
  EXPECT_DATA_ERROR(data::TokenFile(broken(34, std::string("\xff\xff", 2))), "token 1 is 65535");
  write_bytes(dir.file("short.bin"), "XLSTMTOK");
  EXPECT_DATA_ERROR(data::TokenFile(dir.file("short.bin")), "too short");
}

TEST(CorpusSplit, DeterministicByDocument) {
  std::vector<std::string> docs;
  for (int i = 0; i < 40; ++i) docs.push_back("d" + std::to_string(100 + i));
  const auto val = data::choose_validation(docs, 0.1, 3);
  EXPECT_EQ(val.size(), 4u);
  EXPECT_TRUE(std::is_sorted(val.begin(), val.end()));
  EXPECT_EQ(data::choose_validation(docs, 0.1, 3), val);
  std::vector<std::string> reversed(docs.rbegin(), docs.rend());
  EXPECT_EQ(data::choose_validation(reversed, 0.1, 3), val);  // input order does not matter
  EXPECT_NE(data::choose_validation(docs, 0.1, 4), val);
  EXPECT_EQ(data::choose_validation(docs, 0.0, 3).size(), 0u);
  EXPECT_EQ(data::choose_validation(docs, 0.001, 3).size(), 1u);  // at least one
  EXPECT_EQ(data::choose_validation({"a", "b"}, 0.9, 3).size(), 1u);  // at most n - 1
  EXPECT_DATA_ERROR(data::choose_validation(docs, 1.0, 3), "[0, 1)");
  EXPECT_DATA_ERROR(data::choose_validation(docs, -0.5, 3), "[0, 1)");
}

// A corpus folder with a few Brown files.
struct SmallCorpus {
  TempDir dir;
  std::vector<std::string> names{"ca01", "cb02", "cf03", "cj04", "cn05", "cr09"};
  SmallCorpus() {
    for (const auto& n : names) write_bytes(dir.file(n), read_bytes(brown_dir() + "/" + n));
    write_bytes(dir.file("README"), "not a document");
  }
};

TEST(CorpusPrepare, BrownFilesToTokenFiles) {
  const SmallCorpus corpus;
  const auto tok = tokenizer::Tokenizer::from_path(shared_dir() + "/data/gpt2");
  TempDir out;
  const std::string out_dir = out.file("prepared");  // created by prepare
  const data::PrepareResult r = data::prepare_brown_corpus(corpus.dir.path(), tok, out_dir, {0.3, 11});
  EXPECT_EQ(r.val.documents, data::choose_validation(corpus.names, 0.3, 11));
  EXPECT_EQ(r.val.documents.size(), 2u);
  EXPECT_EQ(r.train.documents.size(), 4u);

  // The token files hold each document's tokens and <|endoftext|>, documents in name order.
  for (const auto* split : {&r.train, &r.val}) {
    const data::TokenFile file(out_dir + (split == &r.train ? "/train.bin" : "/val.bin"));
    EXPECT_EQ(file.vocab_size(), 50257);
    ASSERT_EQ(file.size(), split->tokens);
    std::vector<int64_t> expected;
    for (const auto& name : split->documents) {
      const auto ids = tok.encode(data::brown_plain_text(read_bytes(brown_dir() + "/" + name)));
      expected.insert(expected.end(), ids.begin(), ids.end());
      expected.push_back(50256);
    }
    ASSERT_EQ(static_cast<int64_t>(expected.size()), file.size());
    for (int64_t i = 0; i < file.size(); ++i) ASSERT_EQ(file[i], expected[i]) << i;
  }
  EXPECT_GT(r.text_bytes, 50000);
  const std::string manifest = read_bytes(out_dir + "/prepare.json");
  EXPECT_NE(manifest.find("\"seed\": 11"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("\"end_of_text_id\": 50256"), std::string::npos);

  // The same seed gives the same bytes.
  data::prepare_brown_corpus(corpus.dir.path(), tok, out.file("again"), {0.3, 11});
  EXPECT_EQ(read_bytes(out.file("again") + "/train.bin"), read_bytes(out_dir + "/train.bin"));
  EXPECT_DATA_ERROR(data::prepare_brown_corpus(corpus.dir.path(), tok, out.file("no/such/dir"), {}), "cannot create");
}

TEST(CorpusDataset, Batches) {
  TempDir dir;
  std::vector<uint16_t> tokens(1000);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<uint16_t>(i);
  data::write_token_file(dir.file("d.bin"), tokens, 1000);
  const data::TokenDataset ds(dir.file("d.bin"));
  EXPECT_EQ(ds.size(), 1000);

  const torch::Tensor a = ds.random_batch(7, 3, 16, 32);
  ASSERT_EQ(a.sizes(), (std::vector<int64_t>{16, 33}));
  EXPECT_EQ(a.dtype(), torch::kLong);
  EXPECT_TRUE(torch::equal(a, ds.random_batch(7, 3, 16, 32)));  // a function of (seed, step)
  EXPECT_FALSE(torch::equal(a, ds.random_batch(7, 4, 16, 32)));
  EXPECT_FALSE(torch::equal(a, ds.random_batch(8, 3, 16, 32)));
  // Each row is a contiguous window of the file (token i is i here).
  const torch::Tensor starts = a.select(1, 0);
  EXPECT_TRUE(torch::equal(a, starts.unsqueeze(1) + torch::arange(33, torch::kLong)));
  EXPECT_GE(starts.min().item<int64_t>(), 0);
  EXPECT_LE(starts.max().item<int64_t>(), 1000 - 33);
  // Starts spread over the file.
  const torch::Tensor many = ds.random_batch(1, 0, 4000, 32).select(1, 0);
  EXPECT_LT(many.min().item<int64_t>(), 20);
  EXPECT_GT(many.max().item<int64_t>(), 1000 - 33 - 20);

  // Sequential batches: windows at 0, T, 2T, ...; (1000 - 1) / 100 = 9 windows, batches of 4.
  EXPECT_EQ(ds.num_sequential_batches(4, 100), 3);
  const torch::Tensor last = ds.sequential_batch(2, 4, 100);
  ASSERT_EQ(last.sizes(), (std::vector<int64_t>{1, 101}));
  EXPECT_EQ(last[0][0].item<int64_t>(), 800);
  EXPECT_EQ(last[0][100].item<int64_t>(), 900);
  EXPECT_EQ(ds.sequential_batch(0, 4, 100)[1][0].item<int64_t>(), 100);

  EXPECT_DATA_ERROR(ds.random_batch(0, 0, 2, 1000), "holds 1000 tokens", "1001");
  EXPECT_DATA_ERROR(ds.random_batch(0, 0, 0, 10), "must be positive");
  EXPECT_DATA_ERROR(ds.sequential_batch(3, 4, 100), "batch 3 is outside [0, 3)");
}

}  // namespace
}  // namespace xlstm::testing
