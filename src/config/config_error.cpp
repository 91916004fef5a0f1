// ConfigError: the one exception type for invalid configurations; what() starts with the key path.
#include "xlstm/config.h"

namespace xlstm {

ConfigError::ConfigError(std::string key_path, const std::string& message)
    : std::runtime_error(key_path.empty() ? message : key_path + ": " + message),
      key_path_(std::move(key_path)) {}

ConfigError::ConfigError(const std::string& file, const ConfigError& inner)
    : std::runtime_error(file + ": " + inner.what()), key_path_(inner.key_path()) {}

}  // namespace xlstm
