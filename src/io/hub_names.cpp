// Renaming between hub checkpoint names and module names (see hub_names.h): prefix substitution.
#include "xlstm/io/hub_names.h"

namespace xlstm::io {
namespace {

struct PrefixPair {
  const char* hub;
  const char* module;
};
constexpr PrefixPair kPrefixes[] = {{"backbone.embeddings.", "embedding."}};

std::string replace_prefix(const std::string& name, bool from_hub) {
  for (const auto& p : kPrefixes) {
    const std::string from = from_hub ? p.hub : p.module;
    if (name.compare(0, from.size(), from) == 0) return (from_hub ? p.module : p.hub) + name.substr(from.size());
  }
  return name;
}

}  // namespace

std::string module_name_from_hub(const std::string& hub_name) { return replace_prefix(hub_name, true); }
std::string hub_name_from_module(const std::string& module_name) { return replace_prefix(module_name, false); }

}  // namespace xlstm::io
