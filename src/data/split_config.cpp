// Split parts and counts of the experiment datasets (the reference's count / subpar handling).
#include "xlstm/data/split_config.h"

#include "config/detail.h"
#include "config/validate_checks.h"
#include "config/yaml_scalars.h"
#include "xlstm/data/rng.h"

namespace xlstm::data {
namespace {

const std::vector<std::string>& subset_names() {
  static const std::vector<std::string> names{"train", "validation", "test"};
  return names;
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.compare(0, prefix.size(), prefix) == 0; }

int64_t subset_count(const SplitCounts& count, const std::string& subset) {
  if (subset == "train") return count.train;
  if (subset == "validation") return count.validation;
  return count.test;
}

}  // namespace

std::vector<std::string> split_parts(const SplitCounts& count, const std::vector<std::string>& subpar_names) {
  std::vector<std::string> parts;
  for (const auto& subset : subset_names()) {
    if (subset_count(count, subset) == 0) continue;
    const size_t before = parts.size();
    for (const auto& name : subpar_names)
      if (starts_with(name, subset)) parts.push_back(name);
    if (parts.size() == before) parts.push_back(subset);
  }
  return parts;
}

int64_t part_count(const SplitCounts& count, const std::string& part) {
  for (const auto& subset : subset_names())
    if (starts_with(part, subset)) return subset_count(count, subset);
  return 0;
}

std::string field_path(const std::string& path, const std::string& part, const std::string& field, bool overridden) {
  using config_detail::join;
  return overridden ? join(join(join(path, "subpar"), config_detail::format_string(part)), field) : join(path, field);
}

std::vector<uint64_t> part_base_seeds(int64_t seed, size_t num_parts) {
  Rng master(static_cast<uint64_t>(seed));
  std::vector<uint64_t> seeds;
  for (size_t i = 0; i < num_parts; ++i) seeds.push_back(Rng(master.next_u64()).next_u64());
  return seeds;
}

void validate_splits(const std::string& path, const SplitCounts& count, const std::vector<std::string>& subpar_names) {
  using namespace config_detail;
  check_positive(join(path, "count.train"), count.train);
  check_non_negative(join(path, "count.validation"), count.validation);
  check_non_negative(join(path, "count.test"), count.test);
  std::vector<std::string> train_parts;
  for (const auto& name : subpar_names) {
    if (starts_with(name, "train")) train_parts.push_back(name);
    bool known = false;
    for (const auto& subset : subset_names()) known = known || starts_with(name, subset);
    if (!known)
      throw ConfigError(join(join(path, "subpar"), format_string(name)),
                        "a split part's name must start with train, validation or test");
  }
  if (train_parts.size() > 1)
    throw ConfigError(join(join(path, "subpar"), format_string(train_parts[1])),
                      "a second train part (after " + format_string(train_parts[0]) + "); training reads one");
}

}  // namespace xlstm::data
