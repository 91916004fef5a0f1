// A subcommand of the xlstm tool: its name, help text, flags and entry point. Each subcommand lives in
// a file of its own and is listed once in main.cpp.
#pragma once

#include <string>
#include <vector>

#include "cli/args.h"

namespace xlstm::cli {

struct Command {
  std::string name;
  std::string summary;  // one line for `xlstm --help`
  std::string usage;    // the text of `xlstm <name> --help`
  std::vector<FlagSpec> flags;
  int (*run)(const Args& args) = nullptr;  // exit code; errors are thrown (see main.cpp)
};

Command tokenize_command();
Command detokenize_command();
Command prepare_data_command();
Command info_command();
Command convert_command();
Command train_command();
Command generate_command();

}  // namespace xlstm::cli
