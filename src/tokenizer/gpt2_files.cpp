// Loading GPT-2's tokenizer files: encoder.json (token text -> id) and vocab.bpe (a "#version" line,
// then one merge "a b" per line, highest priority first), as OpenAI's encoder.py reads them.
#include <map>

#include "tokenizer/json_fields.h"
#include "tokenizer/tokenizer_impl.h"
#include "xlstm/tokenizer/unicode.h"

namespace xlstm::tokenizer {
namespace {

BpeModel::Vocab read_encoder_json(const std::string& path) {
  const JsonFile file(path);
  file.object_at(file.root(), "");
  BpeModel::Vocab vocab;
  std::map<int64_t, std::string> token_of_id;
  for (const auto& [token, value] : file.root().items()) {
    const int64_t id = file.id_at(value, io::json_text::quote(token));
    const auto [it, inserted] = token_of_id.emplace(id, token);
    if (!inserted)
      file.fail("", "the tokens " + io::json_text::quote(it->second) + " and " + io::json_text::quote(token) +
                        " both have the id " + std::to_string(id));
    vocab.emplace(token, id);
  }
  if (vocab.empty()) file.fail("", "the vocabulary is empty");
  return vocab;
}

// The merges of vocab.bpe and the line number of each.
BpeModel::Merges read_vocab_bpe(const std::string& path, std::vector<size_t>& line_numbers) {
  const std::string text = read_text_file(path);
  if (const size_t bad = unicode::find_invalid_utf8(text); bad != std::string::npos)
    throw TokenizerError(path + ": not valid UTF-8 (byte " + std::to_string(bad) + ")");
  BpeModel::Merges merges;
  size_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_number == 1 && line.rfind("#version", 0) == 0) continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size() || line.find(' ', space + 1) != std::string::npos)
      throw TokenizerError(path + " line " + std::to_string(line_number) + ": expected two tokens separated by one space, got " +
                           io::json_text::quote(line));
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    line_numbers.push_back(line_number);
  }
  return merges;
}

}  // namespace

Tokenizer Tokenizer::from_gpt2_files(const std::string& encoder_json, const std::string& vocab_bpe) {
  auto impl = std::make_shared<Impl>();
  impl->source = encoder_json + " + " + vocab_bpe;
  BpeModel::Vocab vocab = read_encoder_json(encoder_json);
  std::vector<size_t> lines;
  const BpeModel::Merges merges = read_vocab_bpe(vocab_bpe, lines);
  impl->model = std::make_unique<BpeModel>(std::move(vocab), merges, BpeOptions{},
                                           [&](size_t i) { return vocab_bpe + " line " + std::to_string(lines[i]); });
  impl->finish();
  return Tokenizer(std::move(impl));
}

}  // namespace xlstm::tokenizer
