// Checked access to the fields of the tokenizer's JSON files (json_fields.h).
#include "tokenizer/json_fields.h"

#include <limits>

#include "io/file_util.h"
#include "xlstm/tokenizer/error.h"

namespace xlstm::tokenizer {

std::string read_text_file(const std::string& path) {
  const io::PathKind kind = io::followed_path_kind(path);
  if (kind == io::PathKind::missing) throw TokenizerError(path + ": no such file");
  if (kind != io::PathKind::file) throw TokenizerError(path + ": not a regular file");
  try {
    return io::read_file(path);
  } catch (const std::exception& e) {
    throw TokenizerError(e.what());
  }
}

JsonFile::JsonFile(std::string path) : path_(std::move(path)) {
  const std::string text = read_text_file(path_);
  try {
    root_ = io::json_text::parse_strict(text.begin(), text.end());
  } catch (const io::json_text::ParseError& e) {
    throw TokenizerError(path_ + " " + e.what());
  }
}

void JsonFile::fail(const std::string& where, const std::string& what) const {
  throw TokenizerError(path_ + ": " + (where.empty() ? what : where + ": " + what));
}

const json& JsonFile::object_at(const json& value, const std::string& where) const {
  if (!value.is_object()) fail(where, "expected an object, got " + io::json_text::show(value));
  return value;
}

const json& JsonFile::array_at(const json& value, const std::string& where) const {
  if (!value.is_array()) fail(where, "expected an array, got " + io::json_text::show(value));
  return value;
}

const json& JsonFile::member(const json& object, const std::string& key, const std::string& where) const {
  object_at(object, where);
  const auto it = object.find(key);
  if (it == object.end()) fail(join_path(where, key), "missing");
  return *it;
}

const json* JsonFile::optional_member(const json& object, const std::string& key, const std::string& where) const {
  object_at(object, where);
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string JsonFile::string_at(const json& value, const std::string& where) const {
  if (!value.is_string()) fail(where, "expected a string, got " + io::json_text::show(value));
  return value.get<std::string>();
}

bool JsonFile::bool_at(const json& value, const std::string& where) const {
  if (!value.is_boolean()) fail(where, "expected true or false, got " + io::json_text::show(value));
  return value.get<bool>();
}

int64_t JsonFile::id_at(const json& value, const std::string& where) const {
  constexpr uint64_t kMax = std::numeric_limits<int32_t>::max();
  const bool ok = value.is_number_unsigned()  ? value.get<uint64_t>() <= kMax
                  : value.is_number_integer() ? value.get<int64_t>() >= 0 && value.get<uint64_t>() <= kMax
                                              : false;
  if (!ok) fail(where, "expected a token id (an integer in [0, 2^31)), got " + io::json_text::show(value));
  return value.get<int64_t>();
}

bool JsonFile::flag(const json& object, const std::string& key, const std::string& where, bool fallback) const {
  const json* v = optional_member(object, key, where);
  return v ? bool_at(*v, join_path(where, key)) : fallback;
}

}  // namespace xlstm::tokenizer
