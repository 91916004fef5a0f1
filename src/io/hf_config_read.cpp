// Reading a Hugging Face config.json into xLSTMLargeConfig (the mapping is documented in hf_config.h):
// fields through the config's fields() list with strict JSON types, then the transformers-only keys.
#include <functional>
#include <limits>
#include <set>

#include "config/detail.h"
#include "io/file_util.h"
#include "io/json_text.h"
#include "xlstm/io/hf_config.h"

namespace xlstm::io {
namespace {

using json = nlohmann::json;
using json_text::show;

[[noreturn]] void type_error(const std::string& key, const std::string& expected, const json& value) {
  throw ConfigError(key, "expected " + expected + ", got " + show(value));
}

bool is_int64(const json& v) {
  return v.is_number_integer() &&
         (!v.is_number_unsigned() || v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
}

void read_value(const json& v, int64_t& out, const std::string& key) {
  if (!is_int64(v)) type_error(key, "an integer", v);
  out = v.get<int64_t>();
}
void read_value(const json& v, double& out, const std::string& key) {
  if (!v.is_number()) type_error(key, "a number", v);
  out = v.get<double>();
}
void read_value(const json& v, bool& out, const std::string& key) {
  if (!v.is_boolean()) type_error(key, "true or false", v);
  out = v.get<bool>();
}
void read_value(const json& v, std::string& out, const std::string& key) {
  if (!v.is_string()) type_error(key, "a string", v);
  out = v.get<std::string>();
}
void read_value(const json& v, std::optional<double>& out, const std::string& key) {
  if (v.is_null()) {
    out.reset();
  } else {
    read_value(v, out.emplace(), key);
  }
}

// Type checks of the keys that are accepted and ignored.
bool is_string_or_null(const json& v) { return v.is_string() || v.is_null(); }
bool is_int_or_null(const json& v) { return is_int64(v) || v.is_null(); }
bool is_int_list_or_null(const json& v) {
  if (!v.is_array()) return is_int_or_null(v);
  for (const auto& item : v)
    if (!is_int64(item)) return false;
  return true;
}
bool is_string_list(const json& v) {
  if (!v.is_array()) return false;
  for (const auto& item : v)
    if (!item.is_string()) return false;
  return true;
}

struct IgnoredKey {
  const char* name;
  const char* expected;
  std::function<bool(const json&)> valid;
};

const std::vector<IgnoredKey>& ignored_keys() {
  static const auto is_bool = [](const json& v) { return v.is_boolean(); };
  static const auto is_number = [](const json& v) { return v.is_number(); };
  static const std::vector<IgnoredKey> keys = {
      {"architectures", "a list of strings", is_string_list},
      {"transformers_version", "a string", [](const json& v) { return v.is_string(); }},
      {"_name_or_path", "a string", [](const json& v) { return v.is_string(); }},
      {"torch_dtype", "a string or null", is_string_or_null},
      {"dtype", "a string or null", is_string_or_null},
      {"use_cache", "true or false", is_bool},
      {"bos_token_id", "an integer or null", is_int_or_null},
      {"pad_token_id", "an integer or null", is_int_or_null},
      {"eos_token_id", "an integer, a list of integers or null", is_int_list_or_null},
      {"max_inference_chunksize", "an integer", is_int64},
      {"force_bos_token_insert", "true or false", is_bool},
      {"igate_bias_init_range", "a number", is_number},
      {"cell_norm_eps", "a number", is_number},
      {"mlstm_round_up_to_multiple_of", "an integer", is_int64},
      {"add_embedding_dropout", "true or false", is_bool},
      {"add_forward_backend_padding", "true or false", is_bool},
  };
  return keys;
}

// A bool key that must be false (a feature xLSTMLarge does not have).
void require_false(const json& root, const std::string& key, const std::string& why) {
  if (!root.contains(key)) return;
  bool value = false;
  read_value(root[key], value, key);
  if (value) throw ConfigError(key, "true is not supported: " + why);
}

// `alias` fills `out` when the field itself is absent or null. Returns whether the alias was given.
template <class T>
bool read_alias(const json& root, const char* field, const char* alias, T& out, std::set<std::string>& used) {
  if (!root.contains(alias)) return false;
  used.insert(alias);
  T value{};
  read_value(root[alias], value, alias);
  if (!root.contains(field) || root[field].is_null()) out = value;
  return true;
}

}  // namespace

xLSTMLargeConfig hf_default_large_config() {
  xLSTMLargeConfig c;
  c.embedding_dim = 4096;
  c.num_heads = 8;
  c.num_blocks = 32;
  c.vocab_size = 50304;
  c.chunkwise_kernel = "chunkwise--native_autograd";
  c.sequence_kernel = "native_sequence__native";
  c.step_kernel = "native";
  c.mode = "inference";
  c.return_last_states = true;
  c.ffn_proj_factor = 2.667;
  return c;
}

xLSTMLargeConfig large_config_from_hf_json(const std::string& json_text) {
  json root;
  try {
    root = json_text::parse_strict(json_text.begin(), json_text.end());
  } catch (const json_text::ParseError& e) {
    throw ConfigError("", std::string("the text ") + e.what());
  }
  if (!root.is_object()) throw ConfigError("", "expected a JSON object, got " + show(root));

  xLSTMLargeConfig config = hf_default_large_config();
  std::set<std::string> used;
  config.fields([&](const char* name, auto& member, FieldKind) {
    if (!root.contains(name)) return;
    used.insert(name);
    // transformers allows null for embedding_dim and num_blocks (their aliases fill them in).
    const bool aliased = std::string(name) == "embedding_dim" || std::string(name) == "num_blocks";
    if (!(aliased && root[name].is_null())) read_value(root[name], member, name);
  });

  // When both are given, embedding_dim was kept and hidden_size must agree with it.
  if (read_alias(root, "embedding_dim", "hidden_size", config.embedding_dim, used) &&
      root["hidden_size"].get<int64_t>() != config.embedding_dim)
    throw ConfigError("hidden_size", show(root["hidden_size"]) + " disagrees with embedding_dim " +
                                         std::to_string(config.embedding_dim) +
                                         " (transformers would size the embedding and the other layers differently)");
  read_alias(root, "num_blocks", "num_hidden_layers", config.num_blocks, used);
  if (root.contains("add_post_blocks_norm")) {
    used.insert("add_post_blocks_norm");
    bool post_blocks_norm = false;
    read_value(root["add_post_blocks_norm"], post_blocks_norm, "add_post_blocks_norm");
    if (!root.contains("add_out_norm")) config.add_out_norm = post_blocks_norm;
    if (post_blocks_norm != config.add_out_norm)
      throw ConfigError("add_post_blocks_norm", show(root["add_post_blocks_norm"]) + " disagrees with add_out_norm " +
                                                    show(root["add_out_norm"]));
  }
  if (root.contains("model_type")) {
    used.insert("model_type");
    if (root["model_type"] != "xlstm")
      throw ConfigError("model_type", "expected \"xlstm\", got " + show(root["model_type"]));
  }
  for (const char* key : {"tie_word_embeddings", "add_post_norm", "add_qk_norm"}) used.insert(key);
  require_false(root, "tie_word_embeddings", "xLSTMLarge has its own lm_head weight");
  require_false(root, "add_post_norm", "xLSTMLarge blocks have no post norm");
  require_false(root, "add_qk_norm", "xLSTMLarge has no query/key norm");
  for (const auto& key : ignored_keys()) {
    if (!root.contains(key.name)) continue;
    used.insert(key.name);
    if (!key.valid(root[key.name])) type_error(key.name, key.expected, root[key.name]);
  }
  used.insert("head_dim");
  for (const auto& item : root.items())
    if (!used.count(item.key()))
      throw ConfigError(item.key(), "unknown key (not an xLSTMLargeConfig field nor a transformers xLSTMConfig key "
                                    "this library understands; see xlstm/io/hf_config.h)");

  config.post_init();
  config.validate();
  if (root.contains("head_dim")) {
    int64_t head_dim = 0;
    read_value(root["head_dim"], head_dim, "head_dim");
    if (head_dim != config.embedding_dim / config.num_heads)
      throw ConfigError("head_dim", show(root["head_dim"]) + " is not embedding_dim / num_heads = " +
                                        std::to_string(config.embedding_dim / config.num_heads));
  }
  return config;
}

xLSTMLargeConfig read_hf_config_file(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return large_config_from_hf_json(text);
  } catch (const ConfigError& e) {
    throw ConfigError(path, e);
  }
}

}  // namespace xlstm::io
