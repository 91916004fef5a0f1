// The xlstm command-line tool: dispatches to the subcommands of command.h. Every error is one line on
// stderr ("xlstm <command>: error: ...") with exit code 1, or 2 for a usage mistake.
#include <c10/util/Exception.h>

#include <cstdio>
#include <exception>
#include <string>

#include "cli/command.h"

namespace {

using xlstm::cli::Command;

std::vector<Command> all_commands() {
  using namespace xlstm::cli;
  return {tokenize_command(), detokenize_command(), prepare_data_command(), info_command(), convert_command(),
          train_command(),    generate_command()};
}

void print_overview() {
  std::printf( "usage: xlstm <command> [flags]   (xlstm <command> --help for its flags)\n\ncommands:\n");
  for (const Command& c : all_commands()) std::printf("  %-14s %s\n", c.name.c_str(), c.summary.c_str());
}

// The message on one line.
std::string one_line(std::string text) {
  for (size_t pos = 0; (pos = text.find('\n', pos)) != std::string::npos;) text.replace(pos, 1, "; ");
  while (!text.empty() && (text.back() == ' ' || text.back() == ';')) text.pop_back();
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "xlstm: error: no command given (see xlstm --help)\n");
    return 2;
  }
  if (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    print_overview();
    return 0;
  }
  const std::string name = argv[1];
  for (const Command& command : all_commands()) {
    if (command.name != name) continue;
    try {
      const xlstm::cli::Args args(argc, argv, 2, command.flags);
      if (args.help()) {
        std::fputs(command.usage.c_str(), stdout);
        return 0;
      }
      return command.run(args);
    } catch (const xlstm::cli::UsageError& e) {
      std::fprintf(stderr, "xlstm %s: error: %s (see xlstm %s --help)\n", name.c_str(), one_line(e.what()).c_str(),
                   name.c_str());
      return 2;
    } catch (const c10::Error& e) {
      std::fprintf(stderr, "xlstm %s: error: %s\n", name.c_str(), one_line(e.what_without_backtrace()).c_str());
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "xlstm %s: error: %s\n", name.c_str(), one_line(e.what()).c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "xlstm: error: unknown command '%s' (see xlstm --help)\n", name.c_str());
  return 2;
}
