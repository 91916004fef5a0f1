// Split sizes and split parts shared by the dataset configs of the experiments (the reference's
// `count` and `subpar` fields, xlstm-spec.md §8.1). A dataset has a train, a validation and a test
// subset; `subpar` may divide a subset into parts whose names start with the subset's name
// ("validation", "validation_long", ...), each with its own generator parameters and the subset's count.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "xlstm/config.h"

namespace xlstm::data {

// Examples per subset; every part of a subset gets this count. 0 = no such subset (train needs > 0).
struct SplitCounts {
  int64_t train = 1;
  int64_t validation = 1;
  int64_t test = 0;

  template <class V>
  void fields(V&& v) {
    v("train", train, FieldKind::user);
    v("validation", validation, FieldKind::user);
    v("test", test, FieldKind::user);
  }
};

// The names of a `subpar` list.
template <class Overrides>
std::vector<std::string> part_names(const std::vector<std::pair<std::string, Overrides>>& subpar) {
  std::vector<std::string> names;
  for (const auto& entry : subpar) names.push_back(entry.first);
  return names;
}

// The overrides of split part `part`, or nullptr.
template <class Overrides>
const Overrides* find_part(const std::vector<std::pair<std::string, Overrides>>& subpar, const std::string& part) {
  for (const auto& entry : subpar)
    if (entry.first == part) return &entry.second;
  return nullptr;
}

// "<path>.<field>", or "<path>.subpar.<part>.<field>" when `overridden`.
std::string field_path(const std::string& path, const std::string& part, const std::string& field, bool overridden);

// The key path of `field` for split part `part`: in its `subpar` entry when that sets the field.
template <class Overrides>
std::string part_field_path(const std::string& path, const std::vector<std::pair<std::string, Overrides>>& subpar,
                            const std::string& part, const std::string& field) {
  bool overridden = false;
  if (const Overrides* o = find_part(subpar, part))
    const_cast<Overrides*>(o)->fields([&](const char* name, const auto& member, FieldKind) {
      if (field == name) overridden = member.has_value();
    });
  return field_path(path, part, field, overridden);
}

// The split parts in the reference's order (_resolve_subset_subparts): for train, validation and test,
// the `subpar` names starting with the subset's name in file order, or the subset itself when there
// are none. Subsets whose count is 0 are left out.
std::vector<std::string> split_parts(const SplitCounts& count, const std::vector<std::string>& subpar_names);

// The count of the subset that `part` belongs to.
int64_t part_count(const SplitCounts& count, const std::string& part);

// The reference's seeding of split parts, with this library's generator (rng.h): one seed per part
// drawn in split_parts() order from Rng(seed), and each part's base seed drawn from Rng(part seed);
// example i of a part is generated from Rng(base seed + i).
std::vector<uint64_t> part_base_seeds(int64_t seed, size_t num_parts);

// count.train > 0, the other counts >= 0, and every `subpar` name starts with train, validation or
// test; `path` is the dataset config's own path (errors name `<path>.count.train`, `<path>.subpar.x`).
void validate_splits(const std::string& path, const SplitCounts& count, const std::vector<std::string>& subpar_names);

}  // namespace xlstm::data
