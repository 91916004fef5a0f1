// Loading a Hugging Face tokenizer.json of BPE type: the model (vocab, merges in either form, options)
// and the added tokens; the pipeline parts are read by tokenizer_json_pipeline.cpp.
#include <map>

#include "tokenizer/tokenizer_json.h"
#include "xlstm/tokenizer/unicode.h"

namespace xlstm::tokenizer {
namespace {

BpeModel::Vocab read_vocab(const JsonFile& file, const json& model) {
  const json& vocab_json = file.object_at(file.member(model, "vocab", "model"), "model.vocab");
  BpeModel::Vocab vocab;
  std::map<int64_t, std::string> token_of_id;
  for (const auto& [token, value] : vocab_json.items()) {
    const int64_t id = file.id_at(value, "model.vocab." + io::json_text::quote(token));
    const auto [it, inserted] = token_of_id.emplace(id, token);
    if (!inserted)
      file.fail("model.vocab", "the tokens " + io::json_text::quote(it->second) + " and " + io::json_text::quote(token) +
                                   " both have the id " + std::to_string(id));
    vocab.emplace(token, id);
  }
  if (vocab.empty()) file.fail("model.vocab", "the vocabulary is empty");
  return vocab;
}

// Merges as "a b" strings (tokenizers before 0.20) or [a, b] pairs (later versions).
BpeModel::Merges read_merges(const JsonFile& file, const json& model) {
  const json& list = file.array_at(file.member(model, "merges", "model"), "model.merges");
  BpeModel::Merges merges;
  merges.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = "model.merges[" + std::to_string(i) + "]";
    const json& m = list[i];
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        file.fail(where, "expected two tokens separated by one space, got " + io::json_text::quote(s));
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2) {
      merges.emplace_back(file.string_at(m[0], where + "[0]"), file.string_at(m[1], where + "[1]"));
    } else {
      file.fail(where, "expected \"a b\" or [\"a\", \"b\"], got " + io::json_text::show(m));
    }
  }
  return merges;
}

std::unique_ptr<BpeModel> read_model(const JsonFile& file) {
  const json& model = file.object_at(file.member(file.root(), "model", ""), "model");
  if (const json* type = file.optional_member(model, "type", "model"); type) {
    const std::string name = file.string_at(*type, "model.type");
    if (name != "BPE") file.fail("model.type", "\"" + name + "\" is not supported (only BPE)");
  }
  if (const json* dropout = file.optional_member(model, "dropout", "model"); dropout && *dropout != 0)
    file.fail("model.dropout", io::json_text::show(*dropout) + " is not supported (only null or 0)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (const json* v = file.optional_member(model, key, "model"); v && !file.string_at(*v, join_path("model", key)).empty())
      file.fail(join_path("model", key), io::json_text::show(*v) + " is not supported (only null or \"\")");
  if (file.flag(model, "byte_fallback", "model", false)) file.fail("model.byte_fallback", "true is not supported");

  BpeModel::Vocab vocab = read_vocab(file, model);
  BpeOptions options;
  options.fuse_unk = file.flag(model, "fuse_unk", "model", false);
  options.ignore_merges = file.flag(model, "ignore_merges", "model", false);
  if (const json* unk = file.optional_member(model, "unk_token", "model")) {
    const std::string token = file.string_at(*unk, "model.unk_token");
    const auto it = vocab.find(token);
    if (it == vocab.end()) file.fail("model.unk_token", io::json_text::quote(token) + " is not in the vocabulary");
    options.unk_id = it->second;
  }
  const BpeModel::Merges merges = read_merges(file, model);
  return std::make_unique<BpeModel>(std::move(vocab), merges, options, [&](size_t i) {
    return file.path() + ": model.merges[" + std::to_string(i) + "]";
  });
}

std::vector<AddedToken> read_added_tokens(const JsonFile& file) {
  std::vector<AddedToken> tokens;
  const json* list = file.optional_member(file.root(), "added_tokens", "");
  if (!list) return tokens;
  file.array_at(*list, "added_tokens");
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string where = "added_tokens[" + std::to_string(i) + "]";
    const json& entry = file.object_at((*list)[i], where);
    AddedToken t;
    t.id = file.id_at(file.member(entry, "id", where), where + ".id");
    t.content = file.string_at(file.member(entry, "content", where), where + ".content");
    if (t.content.empty()) file.fail(where + ".content", "an added token cannot be empty");
    if (unicode::find_invalid_utf8(t.content) != std::string::npos) file.fail(where + ".content", "not valid UTF-8");
    t.special = file.flag(entry, "special", where, false);
    t.normalized = file.flag(entry, "normalized", where, !t.special);
    t.lstrip = file.flag(entry, "lstrip", where, false);
    t.rstrip = file.flag(entry, "rstrip", where, false);
    if (file.flag(entry, "single_word", where, false)) file.fail(where + ".single_word", "true is not supported");
    for (const AddedToken& other : tokens)
      if (other.content == t.content) file.fail(where, "the token " + io::json_text::quote(t.content) + " is listed twice");
    tokens.push_back(std::move(t));
  }
  return tokens;
}

}  // namespace

Tokenizer Tokenizer::from_tokenizer_json(const std::string& path) {
  const JsonFile file(path);
  file.object_at(file.root(), "");
  auto impl = std::make_shared<Impl>();
  impl->source = path;
  impl->model = read_model(file);
  impl->added_tokens = read_added_tokens(file);
  read_pipeline(file, *impl);
  impl->finish();
  for (const auto* ids : {&impl->prefix_ids, &impl->suffix_ids})
    for (const int64_t id : *ids)
      if (id >= static_cast<int64_t>(impl->known.size()) || !impl->known[id])
        file.fail("post_processor", "the template's token id " + std::to_string(id) + " is not in the vocabulary");
  return Tokenizer(std::move(impl));
}

}  // namespace xlstm::tokenizer
