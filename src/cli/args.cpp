// Parsing and typed access of command-line flags (args.h).
#include "cli/args.h"

#include <algorithm>

#include <cerrno>
#include <cstdlib>

namespace xlstm::cli {

Args::Args(int argc, const char* const* argv, int first, const std::vector<FlagSpec>& specs)
    : words_(argv + std::min(first, argc), argv + argc) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) throw UsageError("unexpected argument '" + arg + "'");
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs)
      if (s.name == name) spec = &s;
    if (!spec) throw UsageError("unknown flag --" + name);
    if (values_.count(name) && !spec->repeatable) throw UsageError("--" + name + " is given twice");
    if (!spec->takes_value) {
      if (inline_value) throw UsageError("--" + name + " takes no value");
      value = "true";
    } else if (!inline_value) {
      if (i + 1 >= argc) throw UsageError("--" + name + " needs a value");
      value = argv[++i];
    }
    values_[name] = value;
    repeated_[name].push_back(value);
  }
}

std::string Args::get(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) throw UsageError("--" + name + " is required");
  return it->second;
}

std::string Args::get_or(const std::string& name, const std::string& fallback) const {
  return has(name) ? get(name) : fallback;
}

std::vector<std::string> Args::get_all(const std::string& name) const {
  const auto it = repeated_.find(name);
  return it == repeated_.end() ? std::vector<std::string>{} : it->second;
}

double Args::get_double(const std::string& name, double fallback) const {
  if (!has(name)) return fallback;
  const std::string text = get(name);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0) throw UsageError("--" + name + ": '" + text + "' is not a number");
  return v;
}

int64_t Args::get_int(const std::string& name, int64_t fallback) const {
  if (!has(name)) return fallback;
  const std::string text = get(name);
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0) throw UsageError("--" + name + ": '" + text + "' is not an integer");
  return v;
}

void Args::require_one_of(const std::string& a, const std::string& b) const {
  if (has(a) == has(b)) throw UsageError("give exactly one of --" + a + " and --" + b);
}

std::vector<std::string> Args::words_without(const std::string& name) const {
  std::vector<std::string> kept;
  const std::string flag = "--" + name;
  for (size_t i = 0; i < words_.size(); ++i) {
    if (words_[i] == flag) {
      ++i;  // and its value
      continue;
    }
    if (words_[i].rfind(flag + "=", 0) == 0) continue;
    kept.push_back(words_[i]);
  }
  return kept;
}

}  // namespace xlstm::cli
