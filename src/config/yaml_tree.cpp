// Overrides and interpolations on a yaml-cpp tree. yaml-cpp nodes are handles: assigning one node to
// another changes the tree, so walking uses Node::reset and a copied path of keys.
#include "yaml_tree.h"

#include <cstdint>
#include <vector>

#include "detail.h"
#include "yaml_scalars.h"

namespace xlstm::config_detail {
namespace {

using Location = std::vector<std::string>;  // keys from the top (list items by their index)

std::string location_path(const Location& location, size_t count) {
  std::string path;
  for (size_t i = 0; i < count && i < location.size(); ++i) path = join(path, location[i]);
  return path;
}
std::string location_path(const Location& location) { return location_path(location, location.size()); }

std::vector<std::string> split_keys(const std::string& text) {
  std::vector<std::string> keys{""};
  for (char c : text) {
    if (c == '.')
      keys.emplace_back();
    else
      keys.back() += c;
  }
  return keys;
}

// The child of `node` under `key` (a list takes an index), or an invalid node.
YAML::Node child(const YAML::Node& node, const std::string& key) {
  if (node.IsMap()) return node[key];
  if (node.IsSequence()) {
    const auto index = parse_int(key);
    if (index && *index >= 0 && static_cast<size_t>(*index) < node.size()) return node[static_cast<size_t>(*index)];
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Node find(const YAML::Node& root, const Location& location) {
  YAML::Node node;
  node.reset(root);
  for (const auto& key : location) {
    const YAML::Node next = child(node, key);
    if (!next.IsDefined()) return next;
    node.reset(next);
  }
  return node;
}

bool is_interpolation(const YAML::Node& node) {
  if (!node.IsScalar()) return false;
  const std::string& s = node.Scalar();
  return s.size() >= 3 && s.compare(0, 2, "${") == 0 && s.back() == '}';
}

// Where "${reference}" at `at` points to.
Location target_of(const std::string& reference, const Location& at) {
  const std::string where = location_path(at);
  size_t dots = 0;
  while (dots < reference.size() && reference[dots] == '.') ++dots;
  const std::string rest = reference.substr(dots);
  const std::string shown = show("${" + reference + "}");
  if (rest.empty()) throw ConfigError(where, "interpolation " + shown + " names no key");
  Location target;
  if (dots > 0) {
    // One dot: the mapping holding the value; each further dot one level up.
    if (dots > at.size()) throw ConfigError(where, "interpolation " + shown + " goes above the top of the file");
    target.assign(at.begin(), at.end() - static_cast<std::ptrdiff_t>(dots));
  }
  for (const auto& key : split_keys(rest)) {
    if (key.empty()) throw ConfigError(where, "interpolation " + shown + " has an empty key");
    target.push_back(key);
  }
  return target;
}

// The value at `at` with interpolations followed (at most `hops` of them).
YAML::Node resolved(const YAML::Node& root, const Location& at, int hops) {
  YAML::Node node = find(root, at);
  if (!is_interpolation(node)) return node;
  const std::string text = node.Scalar();
  const std::string reference = text.substr(2, text.size() - 3);
  if (hops == 0) throw ConfigError(location_path(at), "interpolation " + show(text) + " is part of a cycle");
  const Location target = target_of(reference, at);
  if (!find(root, target).IsDefined())
    throw ConfigError(location_path(at), "interpolation " + show(text) + ": no key " + location_path(target));
  return resolved(root, target, hops - 1);
}

// Walks the tree for interpolations. Aliases may make the tree a graph: a node that is its own
// ancestor is not entered again (the reader reports such cycles), and the walk gives up on documents
// that expand to more than kMaxNodes nodes.
constexpr size_t kMaxNodes = 1000000;

struct Walk {
  std::vector<YAML::Node> ancestors;
  std::vector<Location> found;
  size_t visited = 0;
};

void collect(const YAML::Node& node, Location& at, Walk& walk) {
  if (++walk.visited > kMaxNodes)
    throw ConfigError(location_path(at), "the document expands to more than " + std::to_string(kMaxNodes) +
                                             " values (through aliases)");
  if (node.IsMap() || node.IsSequence()) {
    for (const auto& ancestor : walk.ancestors)
      if (ancestor.is(node)) return;
    walk.ancestors.push_back(node);
    if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!it->first.IsScalar()) continue;  // reported by the reader
        at.push_back(it->first.Scalar());
        collect(it->second, at, walk);
        at.pop_back();
      }
    } else {
      for (size_t i = 0; i < node.size(); ++i) {
        at.push_back(std::to_string(i));
        collect(node[i], at, walk);
        at.pop_back();
      }
    }
    walk.ancestors.pop_back();
  } else if (is_interpolation(node)) {
    walk.found.push_back(at);
  } else if (node.IsScalar() && node.Scalar().find("${") != std::string::npos) {
    throw ConfigError(location_path(at), "interpolation inside a string is not supported, got " + show(node.Scalar()));
  }
}

void replace(YAML::Node& root, const Location& at, const YAML::Node& value) {
  YAML::Node parent = find(root, Location(at.begin(), at.end() - 1));
  if (parent.IsMap())
    parent[at.back()] = value;
  else
    parent[static_cast<size_t>(*parse_int(at.back()))] = value;
}

}  // namespace

void apply_override(YAML::Node& root, const std::string& assignment) {
  const size_t equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0)
    throw ConfigError("", "override " + show(assignment) + " is not of the form key.path=value");
  const Location keys = split_keys(assignment.substr(0, equals));
  const std::string path = location_path(keys);
  for (const auto& key : keys)
    if (key.empty()) throw ConfigError("", "override " + show(assignment) + " has an empty key");
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(equals + 1));
  } catch (const YAML::Exception& e) {
    throw ConfigError(path, "override value " + show(assignment.substr(equals + 1)) + " is not valid YAML: " + e.msg);
  }
  YAML::Node node;
  node.reset(root);
  for (size_t i = 0; i + 1 < keys.size(); ++i) {
    YAML::Node next = node[keys[i]];
    if (!next.IsDefined() || next.IsNull()) {
      node[keys[i]] = YAML::Node(YAML::NodeType::Map);
      next.reset(node[keys[i]]);
    } else if (!next.IsMap()) {
      throw ConfigError(location_path(keys, i + 1), "is not a mapping, so the override cannot set " + keys[i + 1]);
    }
    node.reset(next);
  }
  node[keys.back()] = value;
}

void resolve_interpolations(YAML::Node& root) {
  Walk walk;
  Location at;
  collect(root, at, walk);
  const std::vector<Location>& found = walk.found;
  // Resolve all first, then replace: a replaced value is a copy, so later lookups see the same tree.
  std::vector<YAML::Node> values;
  for (const auto& location : found) values.push_back(YAML::Clone(resolved(root, location, 64)));
  for (size_t i = 0; i < found.size(); ++i) replace(root, found[i], values[i]);
}

}  // namespace xlstm::config_detail
