// TokenFilesConfig::validate (the fields alone; the files are checked when opened) and
// with_absolute_paths.
#include "xlstm/data/token_files_config.h"

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "config/detail.h"
#include "config/validate_checks.h"
#include "config/yaml_scalars.h"
#include "xlstm/data/error.h"

namespace xlstm::data {
namespace {

// The path fields with their names (C is TokenFilesConfig or const TokenFilesConfig).
template <class C>
auto path_fields(C& c) {
  using Member = decltype(&c.train_file);
  return std::array<std::pair<const char*, Member>, 3>{
      {{"train_file", &c.train_file}, {"validation_file", &c.validation_file}, {"tokenizer", &c.tokenizer}}};
}

}  // namespace

void TokenFilesConfig::validate(const std::string& path) const {
  using namespace config_detail;
  for (const auto& [name, value] : path_fields(*this))
    if (value->empty()) throw ConfigError(join(path, name), "is required (a path)");
  if (vocab_size < 1 || vocab_size > 65536)
    throw ConfigError(join(path, "vocab_size"), show(vocab_size) + " is not in [1, 65536] (the token files' range)");
  check_positive(join(path, "context_length"), context_length);
  check_non_negative(join(path, "seed"), seed);
}

TokenFilesConfig with_absolute_paths(const TokenFilesConfig& config, const std::string& path) {
  TokenFilesConfig out = config;
  for (const auto& [name, value] : path_fields(out)) {
    char resolved[PATH_MAX];
    if (!::realpath(value->c_str(), resolved))
      throw DataError(config_detail::join(path, name) + ": " + *value + ": " + std::strerror(errno));
    *value = resolved;
  }
  return out;
}

}  // namespace xlstm::data
