// Command-line helpers shared by the example and benchmark programs: the usage error, the walk over
// the arguments, integer flag values, the default output folder of a config, and the exit status of
// a program's errors.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>

#include <xlstm/config.h>

namespace xlstm_examples {

struct UsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Calls handle(arg, value) for each of argv[1 ...]; value() takes the next argument as the flag's
// value (UsageError when there is none). -h / --help print `usage` and exit with status 0.
inline void for_each_arg(int argc, char** argv, const std::string& usage,
                         const std::function<void(const std::string& arg, const std::function<std::string()>& value)>& handle) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << usage;
      std::exit(0);
    }
    handle(arg, [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError(arg + " needs a value");
      return argv[++i];
    });
  }
}

// The integer value of `flag`; UsageError unless it is one (all of `text`) and >= min.
inline int64_t parse_int(const std::string& flag, const std::string& text, int64_t min) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::logic_error&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || v < min)
    throw UsageError(flag + ": " + text + " is not " +
                     (min == 1   ? std::string("a positive integer")
                      : min == 0 ? std::string("a non-negative integer")
                                 : "an integer >= " + std::to_string(min)));
  return v;
}

// runs/<the config's file name without its extension>
inline std::string default_output_dir(const std::string& config_path) {
  const size_t slash = config_path.find_last_of('/');
  const std::string name = config_path.substr(slash == std::string::npos ? 0 : slash + 1);
  return "runs/" + name.substr(0, name.rfind('.'));
}

// Runs `body` and returns its exit status, or reports an exception on stderr: a UsageError (with
// `usage`) or a ConfigError (the key and the value) with status 2, anything else with status 1.
inline int exit_status_of(const std::string& usage, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << "\n" << usage;
    return 2;
  } catch (const xlstm::ConfigError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "\nerror: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace xlstm_examples
