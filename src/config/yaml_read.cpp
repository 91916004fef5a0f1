// Strict YAML reading of the config structs, written once against their fields() lists: unknown or
// duplicate keys and values of the wrong type are ConfigErrors that name the key path and the value.
// from_yaml = parse, apply overrides, resolve interpolations (yaml_tree.h), read, post_init(), validate();
// from_yaml_file adds the file name to every error.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>
#include <vector>

#include "detail.h"
#include "yaml_scalars.h"
#include "yaml_tree.h"

namespace xlstm {
namespace {

using namespace config_detail;

// yaml-cpp tags plain nodes "?", quoted or block scalars "!", nulls ""; anything else is an explicit tag.
bool is_plain(const YAML::Node& node) { return node.Tag() == "?"; }
bool has_explicit_tag(const YAML::Node& node) { return !is_plain(node) && node.Tag() != "!" && !node.Tag().empty(); }

// What a scalar means: quoted scalars are strings, plain ones resolve by the YAML 1.2 core schema.
PlainKind scalar_kind(const YAML::Node& node) {
  return is_plain(node) ? resolve_plain(node.Scalar()) : PlainKind::string;
}

// A node as messages show it: scalars as written (strings quoted), collections by their kind.
std::string describe(const YAML::Node& node) {
  if (node.IsNull()) return "null";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return scalar_kind(node) == PlainKind::string ? show(node.Scalar()) : shorten(node.Scalar());
}

// A key as a key path shows it: field-name-like keys plain, others quoted ("", "1", "a b").
std::string key_name(const std::string& key) { return format_string(shorten(key)); }

[[noreturn]] void type_error(const std::string& path, const std::string& expected, const YAML::Node& node) {
  throw ConfigError(path, "expected " + expected + ", got " + describe(node));
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

// " (did you mean num_heads?)" for the closest field name within a few edits, else "".
std::string suggestion(const std::string& key, const std::vector<std::string>& names) {
  const size_t allowed = std::max<size_t>(1, key.size() / 4);
  const std::string* best = nullptr;
  size_t best_distance = allowed + 1;
  for (const auto& name : names) {
    const size_t distance = edit_distance(key, name);
    if (distance < best_distance) best = &name, best_distance = distance;
  }
  return best ? " (did you mean " + *best + "?)" : "";
}

void read_scalar(const YAML::Node& node, bool& out, const std::string& path) {
  if (node.IsScalar() && is_plain(node)) {
    if (const auto value = parse_bool(node.Scalar())) {
      out = *value;
      return;
    }
  }
  const bool yaml11 = node.IsScalar() && is_plain(node) && is_yaml11_bool(node.Scalar());
  throw ConfigError(path, "expected true or false, got " + describe(node) +
                              (yaml11 ? " (YAML 1.2 booleans are only true and false)" : ""));
}

void read_scalar(const YAML::Node& node, int64_t& out, const std::string& path) {
  if (!node.IsScalar() || scalar_kind(node) != PlainKind::integer) type_error(path, "an integer", node);
  const auto value = parse_int(node.Scalar());
  if (!value) throw ConfigError(path, shorten(node.Scalar()) + " does not fit in a 64-bit integer");
  out = *value;
}

void read_scalar(const YAML::Node& node, double& out, const std::string& path) {
  const PlainKind kind = node.IsScalar() ? scalar_kind(node) : PlainKind::string;
  if (kind != PlainKind::integer && kind != PlainKind::floating) type_error(path, "a number", node);
  const auto value = parse_number(node.Scalar());
  if (!value || !std::isfinite(*value)) type_error(path, "a finite number", node);
  out = *value;
}

void read_scalar(const YAML::Node& node, std::string& out, const std::string& path) {
  if (!node.IsScalar() || scalar_kind(node) != PlainKind::string) type_error(path, "a string", node);
  out = node.Scalar();
}

void read_scalar(const YAML::Node& node, std::vector<int64_t>& out, const std::string& path) {
  if (!node.IsSequence()) type_error(path, "a list of integers", node);
  out.clear();
  for (const auto& item : node) {
    int64_t value = 0;
    read_scalar(item, value, path + "[" + std::to_string(out.size()) + "]");
    out.push_back(value);
  }
}

// The entries of a mapping in file order; keys must be scalars and appear once.
std::vector<std::pair<std::string, YAML::Node>> mapping_entries(const YAML::Node& node, const std::string& path) {
  std::vector<std::pair<std::string, YAML::Node>> entries;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) throw ConfigError(path, "keys must be field names, got " + describe(it->first));
    const std::string key = it->first.Scalar();
    for (const auto& entry : entries)
      if (entry.first == key) throw ConfigError(join(path, key_name(key)), "duplicate key");
    entries.emplace_back(key, it->second);
  }
  return entries;
}

template <class C>
void read_config(const YAML::Node& node, C& out, const std::string& path);

template <class T>
void read_value(const YAML::Node& node, T& out, const std::string& path) {
  if (has_explicit_tag(node))
    throw ConfigError(path, "explicit YAML tags are not supported, got " + show(node.Tag()));
  if constexpr (is_optional<T>::value) {
    if (node.IsNull()) {
      out.reset();
    } else {
      read_value(node, out.emplace(), path);  // a nested config present in the file starts from its defaults
    }
  } else if constexpr (is_named_list<T>::value) {
    if (!node.IsMap()) type_error(path, "a mapping", node);
    out.clear();
    for (const auto& [key, value] : mapping_entries(node, path)) {
      out.emplace_back(key, typename T::value_type::second_type{});
      read_value(value, out.back().second, join(path, key_name(key)));
    }
  } else if constexpr (is_config<T>::value) {
    read_config(node, out, path);
  } else {
    read_scalar(node, out, path);
  }
}

// slstm_at: "all" stands for every block index; it is expanded once num_blocks is read.
bool is_all_blocks(const YAML::Node& node) {
  return node.IsScalar() && !has_explicit_tag(node) && node.Scalar() == "all";
}

std::vector<int64_t> all_block_indices(int64_t num_blocks) {
  std::vector<int64_t> indices;
  if (num_blocks > kMaxNumBlocks) return indices;  // validate() reports num_blocks
  for (int64_t i = 0; i < num_blocks; ++i) indices.push_back(i);
  return indices;
}

template <class C>
void read_config(const YAML::Node& node, C& out, const std::string& path) {
  if (!node.IsMap()) type_error(path, "a mapping", node);
  auto entries = mapping_entries(node, path);
  std::vector<std::string> names;
  visit_fields(out, [&](const char* name, const auto&, FieldKind) { names.emplace_back(name); });
  for (const auto& entry : entries)
    if (std::find(names.begin(), names.end(), entry.first) == names.end())
      throw ConfigError(join(path, key_name(entry.first)), "unknown key" + suggestion(entry.first, names));

  bool all_blocks = false;
  if constexpr (std::is_base_of_v<xLSTMBlockStackConfig, C>) {
    auto slstm_at = std::find_if(entries.begin(), entries.end(), [](const auto& e) { return e.first == "slstm_at"; });
    if (slstm_at != entries.end() && is_all_blocks(slstm_at->second)) {
      all_blocks = true;
      entries.erase(slstm_at);
    }
  }
  out.fields([&](const char* name, auto& member, FieldKind kind) {
    const auto entry = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == name; });
    if (entry == entries.end()) return;
    // Reference dumps write unset derived fields as null; they are recomputed anyway.
    if (kind == FieldKind::derived && entry->second.IsNull()) return;
    read_value(entry->second, member, join(path, name));
  });
  if constexpr (std::is_base_of_v<xLSTMBlockStackConfig, C>) {
    if (all_blocks) out.slstm_at = all_block_indices(out.num_blocks);
  }
}

std::string read_text_file(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) throw ConfigError("", "cannot read config file " + path + ": it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("", "cannot read config file " + path + ": " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw ConfigError("", "cannot read config file " + path + ": read error");
  return text;
}

}  // namespace

template <class C>
C from_yaml(const std::string& yaml_text, const std::vector<std::string>& overrides) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(yaml_text);
  } catch (const YAML::Exception& e) {
    const std::string where = e.mark.is_null() ? "" : " at line " + std::to_string(e.mark.line + 1) + ", column " +
                                                          std::to_string(e.mark.column + 1);
    throw ConfigError("", "YAML syntax error" + where + ": " + e.msg);
  }
  if (documents.empty()) throw ConfigError("", "the YAML document is empty; expected a mapping of config fields");
  if (documents.size() > 1)
    throw ConfigError("", "expected one YAML document, got " + std::to_string(documents.size()));
  YAML::Node& root = documents.front();
  if (!root.IsMap()) throw ConfigError("", "expected a mapping of config fields, got " + describe(root));
  for (const auto& assignment : overrides) apply_override(root, assignment);
  resolve_interpolations(root);
  C config;
  read_config(root, config, "");
  config.post_init();
  config.validate();
  return config;
}

template <class C>
C from_yaml_file(const std::string& path, const std::vector<std::string>& overrides) {
  const std::string text = read_text_file(path);
  try {
    return from_yaml<C>(text, overrides);
  } catch (const ConfigError& e) {
    throw ConfigError(path, e);
  }
}

#define XLSTM_INSTANTIATE_READ(C)                 \
  template C from_yaml<C>(const std::string&, const std::vector<std::string>&); \
  template C from_yaml_file<C>(const std::string&, const std::vector<std::string>&);
XLSTM_FOR_EACH_CONFIG(XLSTM_INSTANTIATE_READ)
#undef XLSTM_INSTANTIATE_READ

}  // namespace xlstm
