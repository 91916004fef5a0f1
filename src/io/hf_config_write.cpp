// Writing xLSTMLargeConfig as a Hugging Face config.json that transformers' xLSTMConfig reads (see
// hf_config.h): every field under its own name plus transformers' aliases and model identification.
#include <nlohmann/json.hpp>

#include "config/detail.h"
#include "xlstm/io/hf_config.h"

namespace xlstm::io {
namespace {

using json = nlohmann::json;

json to_json(const std::optional<double>& value) { return value ? json(*value) : json(nullptr); }
template <class T>
json to_json(const T& value) {
  return json(value);
}

}  // namespace

std::string large_config_to_hf_json(const xLSTMLargeConfig& config) {
  json root = json::object();
  config_detail::visit_fields(config, [&](const char* name, const auto& member, FieldKind) { root[name] = to_json(member); });
  root["hidden_size"] = config.embedding_dim;
  root["num_hidden_layers"] = config.num_blocks;
  root["model_type"] = "xlstm";
  root["architectures"] = json::array({"xLSTMForCausalLM"});
  root["tie_word_embeddings"] = false;
  return root.dump(2) + "\n";
}

}  // namespace xlstm::io
