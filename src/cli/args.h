// Command-line flags of the xlstm tool: `--name value`, `--name=value` and boolean `--name`, checked
// against the flags a subcommand declares. Mistakes raise UsageError (exit code 2).
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace xlstm::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FlagSpec {
  std::string name;  // without the dashes
  bool takes_value = true;
  bool repeatable = false;  // may be given more than once (values in order: get_all)
};

class Args {
 public:
  // Parses argv[first, argc). --help / -h anywhere sets help(). UsageError for an unknown flag, a
  // missing value, a value given to a boolean flag, a repeated flag that is not repeatable or a
  // positional argument.
  Args(int argc, const char* const* argv, int first, const std::vector<FlagSpec>& specs);

  bool help() const { return help_; }
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name) const;  // UsageError "--name is required" when absent
  std::string get_or(const std::string& name, const std::string& fallback) const;
  std::vector<std::string> get_all(const std::string& name) const;  // a repeatable flag's values, in order
  double get_double(const std::string& name, double fallback) const;
  int64_t get_int(const std::string& name, int64_t fallback) const;

  // UsageError unless exactly one of the flags is given.
  void require_one_of(const std::string& a, const std::string& b) const;

  // The parsed words without flag `name` and its value (`--name value` or `--name=value`): what a
  // subcommand passes on to copies of itself.
  std::vector<std::string> words_without(const std::string& name) const;

 private:
  std::vector<std::string> words_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> repeated_;
  bool help_ = false;
};

}  // namespace xlstm::cli
