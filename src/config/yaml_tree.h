// Edits of a parsed YAML document before from_yaml reads it into a config: command-line overrides
// ("a.b.c=value") and OmegaConf-style interpolations ("${a.b}", "${.sibling}"). Errors are
// ConfigErrors naming the key path.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace xlstm::config_detail {

// "a.b.c=value": sets root.a.b.c to `value` parsed as YAML (so "[0, 1]" is a list and "'1'" a string),
// creating missing mappings on the way (and replacing a null one).
void apply_override(YAML::Node& root, const std::string& assignment);

// Replaces every scalar that is exactly "${path}" by (a copy of) the value `path` names: "a.b.c" from
// the top of the document, ".c" in the mapping that holds the scalar, "..c" one mapping further up.
// Chains resolve; cycles, missing keys and "${" inside a longer string are errors.
void resolve_interpolations(YAML::Node& root);

}  // namespace xlstm::config_detail
