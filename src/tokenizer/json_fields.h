// Reading the tokenizer's JSON files (encoder.json, tokenizer.json) with errors that name the file,
// the field path ("model.merges[3]") and what is wrong.
#pragma once

#include <cstdint>
#include <string>

#include "io/json_text.h"

namespace xlstm::tokenizer {

using json = nlohmann::json;

// The bytes of a file; TokenizerError "<path>: cannot read (<reason>)".
std::string read_text_file(const std::string& path);

// A parsed JSON file with checked access to its fields.
class JsonFile {
 public:
  explicit JsonFile(std::string path);  // reads and parses (duplicate keys are an error)

  const json& root() const { return root_; }
  const std::string& path() const { return path_; }

  // TokenizerError "<file>: <where>: <what>" (or "<file>: <what>" when where is empty).
  [[noreturn]] void fail(const std::string& where, const std::string& what) const;

  // A member that must exist; `object` must be an object (`where` names it).
  const json& member(const json& object, const std::string& key, const std::string& where) const;
  // A member that may be missing or null (then nullptr).
  const json* optional_member(const json& object, const std::string& key, const std::string& where) const;

  const json& object_at(const json& value, const std::string& where) const;
  const json& array_at(const json& value, const std::string& where) const;
  std::string string_at(const json& value, const std::string& where) const;
  bool bool_at(const json& value, const std::string& where) const;
  int64_t id_at(const json& value, const std::string& where) const;  // an integer in [0, 2^31)

  // An optional boolean member, `fallback` when missing or null.
  bool flag(const json& object, const std::string& key, const std::string& where, bool fallback) const;

 private:
  std::string path_;
  json root_;
};

// "where.key" (or "key" at the top).
inline std::string join_path(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}

}  // namespace xlstm::tokenizer
