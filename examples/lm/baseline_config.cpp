// read_baseline_config (baseline_config.h): the base LM config through the library, the transformer
// section with yaml-cpp.
#include "lm/baseline_config.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>

namespace xlstm_examples {
namespace {

using xlstm::ConfigError;

template <class T>
void read_field(const YAML::Node& node, const std::string& key, const char* expected, T& out) {
  try {
    if (!node.IsScalar()) throw YAML::BadConversion(node.Mark());
    out = node.as<T>();
  } catch (const YAML::Exception&) {
    throw ConfigError("transformer." + key, std::string("expected ") + expected);
  }
}

void read_transformer(const YAML::Node& node, TransformerConfig& c) {
  if (!node.IsMap()) throw ConfigError("transformer", "expected a mapping of TransformerConfig fields");
  const std::map<std::string, std::function<void(const YAML::Node&, const std::string&)>> fields{
      {"embedding_dim", [&](const YAML::Node& n, const std::string& k) { read_field(n, k, "an integer", c.embedding_dim); }},
      {"num_layers", [&](const YAML::Node& n, const std::string& k) { read_field(n, k, "an integer", c.num_layers); }},
      {"num_heads", [&](const YAML::Node& n, const std::string& k) { read_field(n, k, "an integer", c.num_heads); }},
      {"mlp_factor", [&](const YAML::Node& n, const std::string& k) { read_field(n, k, "an integer", c.mlp_factor); }},
      {"dropout", [&](const YAML::Node& n, const std::string& k) { read_field(n, k, "a number", c.dropout); }},
      {"tie_weights", [&](const YAML::Node& n, const std::string& k) { read_field(n, k, "true or false", c.tie_weights); }},
  };
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.as<std::string>();
    const auto field = fields.find(key);
    if (field == fields.end()) throw ConfigError("transformer." + key, "unknown key");
    field->second(it->second, key);
  }
  for (const auto& [key, value] : std::map<std::string, int64_t>{
           {"embedding_dim", c.embedding_dim}, {"num_layers", c.num_layers}, {"num_heads", c.num_heads}, {"mlp_factor", c.mlp_factor}})
    if (value < 1) throw ConfigError("transformer." + key, std::to_string(value) + " must be positive");
  if (c.embedding_dim % c.num_heads != 0)
    throw ConfigError("transformer.num_heads", std::to_string(c.num_heads) + " does not divide embedding_dim " +
                                                   std::to_string(c.embedding_dim));
  if (!(c.dropout >= 0 && c.dropout < 1)) throw ConfigError("transformer.dropout", std::to_string(c.dropout) + " is not in [0, 1)");
}

// "transformer.num_layers=2" applied to the root node.
void apply_transformer_override(YAML::Node& root, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  const std::string key = assignment.substr(std::string("transformer.").size(), eq - std::string("transformer.").size());
  if (eq == std::string::npos || key.empty() || key.find('.') != std::string::npos)
    throw ConfigError("", "override '" + assignment + "' is not transformer.<field>=<value>");
  root["transformer"][key] = YAML::Load(assignment.substr(eq + 1));
}

std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

BaselineConfig read_baseline_config(const std::string& path, const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path, ConfigError("", e.what()));
  }
  std::vector<std::string> base_overrides;
  try {
    if (!root.IsMap() || !root["base"] || !root["transformer"])
      throw ConfigError("", "expected a mapping with the keys base and transformer");
    for (auto it = root.begin(); it != root.end(); ++it)
      if (it->first.as<std::string>() != "base" && it->first.as<std::string>() != "transformer")
        throw ConfigError(it->first.as<std::string>(), "unknown key (base, transformer)");
    for (const auto& o : overrides) {
      if (o.rfind("transformer.", 0) == 0) apply_transformer_override(root, o);
      else base_overrides.push_back(o);
    }
  } catch (const ConfigError& e) {
    throw ConfigError(path, e);
  }
  BaselineConfig c;
  c.base = xlstm::from_yaml_file<xlstm::train::LMExperimentConfig>(directory_of(path) + "/" + root["base"].as<std::string>(),
                                                                   base_overrides);
  try {
    read_transformer(root["transformer"], c.transformer);
  } catch (const ConfigError& e) {
    throw ConfigError(path, e);
  }
  c.transformer.vocab_size = c.base.model.vocab_size;
  c.transformer.context_length = c.base.dataset.kwargs.context_length;
  YAML::Emitter section;
  section << YAML::BeginMap << YAML::Key << "transformer" << YAML::Value << root["transformer"] << YAML::EndMap;
  c.yaml = xlstm::to_yaml(c.base) + section.c_str() + "\n";
  return c;
}

}  // namespace xlstm_examples
