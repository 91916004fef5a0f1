// The Brown Corpus to train / validation token files (prepare.h).
#include "xlstm/data/prepare.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "data/splitmix64.h"
#include "io/file_util.h"
#include "xlstm/data/brown.h"
#include "xlstm/data/error.h"
#include "xlstm/data/token_file.h"

namespace xlstm::data {
namespace {

std::string read_document(const std::string& path) {
  try {
    return io::read_file(path);
  } catch (const std::exception& e) {
    throw DataError(e.what());
  }
}

void make_directory(const std::string& dir) {
  if (io::followed_path_kind(dir) == io::PathKind::directory) return;
  if (::mkdir(dir.c_str(), 0777) != 0) throw DataError(dir + ": cannot create the output folder (" + std::strerror(errno) + ")");
}

void check_val_fraction(double val_fraction) {
  if (!(val_fraction >= 0.0 && val_fraction < 1.0))
    throw DataError("the validation fraction must be in [0, 1), got " + std::to_string(val_fraction));
}

}  // namespace

std::vector<std::string> choose_validation(const std::vector<std::string>& documents, double val_fraction, uint64_t seed) {
  check_val_fraction(val_fraction);
  std::vector<std::string> order = documents;
  std::sort(order.begin(), order.end());
  uint64_t state = seed;
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[splitmix64_next(state) % i]);
  const auto n = static_cast<int64_t>(order.size());
  int64_t count = std::llround(val_fraction * static_cast<double>(n));
  if (val_fraction > 0.0) count = std::clamp<int64_t>(count, 1, std::max<int64_t>(n - 1, 0));
  std::vector<std::string> val(order.begin(), order.begin() + count);
  std::sort(val.begin(), val.end());
  return val;
}

PrepareResult prepare_brown_corpus(const std::string& corpus_dir, const tokenizer::Tokenizer& tokenizer,
                                   const std::string& out_dir, const PrepareOptions& options) {
  check_val_fraction(options.val_fraction);
  const int64_t vocab_size = tokenizer.vocab_size();
  if (vocab_size > 65536)
    throw DataError(tokenizer.source() + ": a vocabulary of " + std::to_string(vocab_size) +
                    " tokens does not fit uint16 token files (at most 65536)");
  const std::vector<std::string> documents = brown_documents(corpus_dir);
  const std::vector<std::string> val_names = choose_validation(documents, options.val_fraction, options.seed);
  const std::set<std::string> is_val(val_names.begin(), val_names.end());
  const std::optional<int64_t> eot = tokenizer.token_to_id("<|endoftext|>");

  PrepareResult result;
  std::vector<uint16_t> train_tokens, val_tokens;
  for (const std::string& name : documents) {
    const std::string text = brown_plain_text(read_document(corpus_dir + "/" + name));
    const auto start = std::chrono::steady_clock::now();
    std::vector<int64_t> ids = tokenizer.encode(text, /*add_special_tokens=*/false);
    result.tokenize_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.text_bytes += static_cast<int64_t>(text.size());
    if (eot) ids.push_back(*eot);
    auto& tokens = is_val.count(name) ? val_tokens : train_tokens;
    for (const int64_t id : ids) tokens.push_back(static_cast<uint16_t>(id));
    (is_val.count(name) ? result.val : result.train).documents.push_back(name);
  }
  result.train.tokens = static_cast<int64_t>(train_tokens.size());
  result.val.tokens = static_cast<int64_t>(val_tokens.size());

  make_directory(out_dir);
  write_token_file(out_dir + "/train.bin", train_tokens, vocab_size);
  write_token_file(out_dir + "/val.bin", val_tokens, vocab_size);
  const auto split_json = [](const SplitSummary& s) { return nlohmann::json{{"documents", s.documents}, {"tokens", s.tokens}}; };
  const nlohmann::json manifest{{"corpus", corpus_dir},        {"tokenizer", tokenizer.source()},
                                {"vocab_size", vocab_size},     {"end_of_text_id", eot ? nlohmann::json(*eot) : nlohmann::json()},
                                {"val_fraction", options.val_fraction}, {"seed", options.seed},
                                {"text_bytes", result.text_bytes},
                                {"train", split_json(result.train)},   {"val", split_json(result.val)}};
  try {
    io::write_file_atomic(out_dir + "/prepare.json", manifest.dump(1) + "\n");
  } catch (const std::exception& e) {
    throw DataError(e.what());
  }
  return result;
}

}  // namespace xlstm::data
