// Running the xlstm tool as a separate process in tests (its path comes from CMake as XLSTM_CLI):
// exit code, stdout and stderr of a run, and the check of an error run (one line on stderr).
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "temp_dir.h"

#ifdef XLSTM_CLI

namespace xlstm::testing {

struct CliRun {
  int code = -1;
  std::string out, err;
};

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs the tool with `args` and `input` on stdin.
inline CliRun run_cli(const std::vector<std::string>& args, const std::string& input = "") {
  TempDir io;
  write_bytes(io.file("in"), input);
  std::string command = shell_quote(XLSTM_CLI);
  for (const auto& a : args) command += " " + shell_quote(a);
  command += " <" + io.file("in") + " >" + io.file("out") + " 2>" + io.file("err");
  const int status = std::system(command.c_str());
  CliRun r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_bytes(io.file("out"));
  r.err = read_bytes(io.file("err"));
  return r;
}

// An error run: the exit code, and one line on stderr that holds every part.
#define EXPECT_CLI_ERROR(run, expected_code, ...)                                                   \
  do {                                                                                             \
    const CliRun _r = (run);                                                                          \
    EXPECT_EQ(_r.code, expected_code) << _r.err;                                                   \
    EXPECT_EQ(std::count(_r.err.begin(), _r.err.end(), '\n'), 1) << _r.err;                        \
    for (const char* _part : {__VA_ARGS__}) EXPECT_NE(_r.err.find(_part), std::string::npos) << _r.err; \
  } while (0)

}  // namespace xlstm::testing

#endif  // XLSTM_CLI
