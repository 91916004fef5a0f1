// The pipeline parts of a tokenizer.json: normalizer (NFC), pre-tokenizer (ByteLevel, Split with the
// GPT-2 pattern), post-processor (ByteLevel, TemplateProcessing) and decoder (ByteLevel). Anything
// else is an error naming the field, since it would change the ids.
#include "tokenizer/tokenizer_json.h"
#include "xlstm/tokenizer/pre_tokenizer.h"

namespace xlstm::tokenizer {
namespace {

std::string type_of(const JsonFile& file, const json& part, const std::string& where) {
  return file.string_at(file.member(part, "type", where), join_path(where, "type"));
}

// Calls visit(element, where) for `part`, or for each element of a Sequence (its list under `key`).
template <class Visit>
void for_each_step(const JsonFile& file, const json& part, const std::string& where, const char* key, Visit visit) {
  if (type_of(file, part, where) != "Sequence") {
    visit(part, where);
    return;
  }
  const std::string list_where = join_path(where, key);
  const json& list = file.array_at(file.member(part, key, where), list_where);
  for (size_t i = 0; i < list.size(); ++i)
    for_each_step(file, list[i], list_where + "[" + std::to_string(i) + "]", key, visit);
}

void read_normalizer(const JsonFile& file, const json* part, Tokenizer::Impl& impl) {
  if (!part) return;
  for_each_step(file, *part, "normalizer", "normalizers", [&](const json& step, const std::string& where) {
    const std::string type = type_of(file, step, where);
    if (type != "NFC") file.fail(join_path(where, "type"), "\"" + type + "\" is not supported (only NFC)");
    impl.normalizer = Normalizer::nfc;
  });
}

void read_pre_tokenizer(const JsonFile& file, const json* part, Tokenizer::Impl& impl) {
  impl.pre_tokenizers.clear();
  if (!part) file.fail("pre_tokenizer", "missing; a byte-level BPE tokenizer needs a ByteLevel pre-tokenizer");
  bool byte_level = false;
  for_each_step(file, *part, "pre_tokenizer", "pretokenizers", [&](const json& step, const std::string& where) {
    const std::string type = type_of(file, step, where);
    PreTokenizerStep s;
    if (type == "ByteLevel") {
      s.kind = PreTokenizerStep::Kind::byte_level;
      s.add_prefix_space = file.flag(step, "add_prefix_space", where, true);
      s.use_regex = file.flag(step, "use_regex", where, true);
      byte_level = true;
    } else if (type == "Split") {
      s.kind = PreTokenizerStep::Kind::split_gpt2;
      const std::string pattern_where = join_path(where, "pattern");
      const json& pattern = file.member(step, "pattern", where);
      const json* regex = file.optional_member(pattern, "Regex", pattern_where);
      if (!regex || file.string_at(*regex, join_path(pattern_where, "Regex")) != kGpt2Pattern)
        file.fail(pattern_where, "only the GPT-2 regex is supported: {\"Regex\": " + io::json_text::quote(kGpt2Pattern) +
                                     "}, got " + io::json_text::show(pattern));
      const std::string behavior = file.string_at(file.member(step, "behavior", where), join_path(where, "behavior"));
      if (behavior != "Isolated") file.fail(join_path(where, "behavior"), "\"" + behavior + "\" is not supported (only Isolated)");
      if (file.flag(step, "invert", where, false)) file.fail(join_path(where, "invert"), "true is not supported");
    } else {
      file.fail(join_path(where, "type"), "\"" + type + "\" is not supported (ByteLevel, Split or Sequence)");
    }
    impl.pre_tokenizers.push_back(s);
  });
  if (!byte_level) file.fail("pre_tokenizer", "has no ByteLevel step; only byte-level BPE tokenizers are supported");
}

// The ids of TemplateProcessing's "single" template before and after the text ($A).
void read_template(const JsonFile& file, const json& step, const std::string& where, Tokenizer::Impl& impl) {
  const std::string single_where = join_path(where, "single");
  const json& single = file.array_at(file.member(step, "single", where), single_where);
  const std::string specials_where = join_path(where, "special_tokens");
  const json& specials = file.object_at(file.member(step, "special_tokens", where), specials_where);
  bool seen_text = false;
  for (size_t i = 0; i < single.size(); ++i) {
    const std::string item_where = single_where + "[" + std::to_string(i) + "]";
    const json& item = file.object_at(single[i], item_where);
    if (const json* seq = file.optional_member(item, "Sequence", item_where)) {
      const std::string id = file.string_at(file.member(*seq, "id", item_where + ".Sequence"), item_where + ".Sequence.id");
      if (id != "A" || seen_text) file.fail(item_where, "the single template must hold the sequence A once");
      seen_text = true;
    } else if (const json* special = file.optional_member(item, "SpecialToken", item_where)) {
      const std::string name =
          file.string_at(file.member(*special, "id", item_where + ".SpecialToken"), item_where + ".SpecialToken.id");
      const std::string entry_where = join_path(specials_where, io::json_text::quote(name));
      const json& entry = file.member(specials, name, specials_where);
      const json& ids = file.array_at(file.member(entry, "ids", entry_where), join_path(entry_where, "ids"));
      auto& target = seen_text ? impl.suffix_ids : impl.prefix_ids;
      for (size_t k = 0; k < ids.size(); ++k) target.push_back(file.id_at(ids[k], entry_where + ".ids[" + std::to_string(k) + "]"));
    } else {
      file.fail(item_where, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}, got " + io::json_text::show(item));
    }
  }
  if (!seen_text) file.fail(single_where, "the single template must hold the sequence A once");
}

void read_post_processor(const JsonFile& file, const json* part, Tokenizer::Impl& impl) {
  if (!part) return;
  for_each_step(file, *part, "post_processor", "processors", [&](const json& step, const std::string& where) {
    const std::string type = type_of(file, step, where);
    if (type == "TemplateProcessing")
      read_template(file, step, where, impl);
    else if (type != "ByteLevel")
      file.fail(join_path(where, "type"), "\"" + type + "\" is not supported (ByteLevel, TemplateProcessing or Sequence)");
  });
}

void read_decoder(const JsonFile& file, const json* part) {
  if (!part) file.fail("decoder", "missing; a byte-level BPE tokenizer needs the ByteLevel decoder");
  const std::string type = type_of(file, *part, "decoder");
  if (type != "ByteLevel") file.fail("decoder.type", "\"" + type + "\" is not supported (only ByteLevel)");
}

}  // namespace

void read_pipeline(const JsonFile& file, Tokenizer::Impl& impl) {
  const json& root = file.root();
  read_normalizer(file, file.optional_member(root, "normalizer", ""), impl);
  read_pre_tokenizer(file, file.optional_member(root, "pre_tokenizer", ""), impl);
  read_post_processor(file, file.optional_member(root, "post_processor", ""), impl);
  read_decoder(file, file.optional_member(root, "decoder", ""));
}

}  // namespace xlstm::tokenizer
