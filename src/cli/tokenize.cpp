// `xlstm tokenize` and `xlstm detokenize`: text lines to token ids and back, through a tokenizer.json
// or a folder with GPT-2's encoder.json and vocab.bpe.
#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "xlstm/tokenizer/tokenizer.h"

namespace xlstm::cli {
namespace {

// Calls f(line, number) for every line of stdin, without its "\n" (a last line without one counts).
template <class F>
void for_each_line(F f) {
  std::ios::sync_with_stdio(false);
  std::string line;
  for (int64_t number = 1; std::getline(std::cin, line); ++number) f(line, number);
}

std::vector<int64_t> parse_ids(const std::string& line, int64_t number) {
  std::vector<int64_t> ids;
  size_t pos = 0;
  while (true) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t' || line[pos] == '\r')) ++pos;
    if (pos == line.size()) break;
    size_t end = pos;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t' && line[end] != '\r') ++end;
    const std::string word = line.substr(pos, end - pos);
    char* stop = nullptr;
    errno = 0;
    const long long id = std::strtoll(word.c_str(), &stop, 10);
    if (*stop != '\0' || errno != 0 || word[0] == '+')
      throw std::runtime_error("line " + std::to_string(number) + ": '" + word + "' is not a token id");
    ids.push_back(id);
    pos = end;
  }
  return ids;
}

int run_tokenize(const Args& args) {
  const auto tok = tokenizer::Tokenizer::from_path(args.get("tokenizer"));
  const bool special = args.has("add-special-tokens");
  std::string out;
  for_each_line([&](const std::string& line, int64_t number) {
    std::vector<int64_t> ids;
    try {
      ids = tok.encode(line, special);
    } catch (const tokenizer::TokenizerError& e) {
      throw std::runtime_error("line " + std::to_string(number) + ": " + e.what());
    }
    out.clear();
    for (size_t i = 0; i < ids.size(); ++i) (out += i ? " " : "") += std::to_string(ids[i]);
    out += '\n';
    std::cout << out;
  });
  std::cout.flush();
  return 0;
}

int run_detokenize(const Args& args) {
  const auto tok = tokenizer::Tokenizer::from_path(args.get("tokenizer"));
  const bool skip = args.has("skip-special-tokens");
  for_each_line([&](const std::string& line, int64_t number) {
    const std::vector<int64_t> ids = parse_ids(line, number);
    try {
      std::cout << tok.decode(ids, skip) << '\n';
    } catch (const tokenizer::TokenizerError& e) {
      throw std::runtime_error("line " + std::to_string(number) + ": " + e.what());
    }
  });
  std::cout.flush();
  return 0;
}

}  // namespace

Command tokenize_command() {
  return {"tokenize", "print the token ids of each line of stdin",
          "usage: xlstm tokenize --tokenizer PATH [--add-special-tokens]\n"
          "\n"
          "Reads text from stdin and prints the token ids of each line, space-separated, one output line\n"
          "per input line (the newline itself is not encoded; an empty line gives an empty line).\n"
          "\n"
          "  --tokenizer PATH        a tokenizer.json, or a folder holding tokenizer.json, or GPT-2's\n"
          "                          encoder.json and vocab.bpe\n"
          "  --add-special-tokens    apply the tokenizer.json post-processor template (e.g. a BOS token)\n",
          {{"tokenizer"}, {"add-special-tokens", false}},
          run_tokenize};
}

Command detokenize_command() {
  return {"detokenize", "print the text of each line of token ids on stdin",
          "usage: xlstm detokenize --tokenizer PATH [--skip-special-tokens]\n"
          "\n"
          "Reads lines of space-separated token ids from stdin and prints the text of each line, followed\n"
          "by a newline. Bytes that do not form valid UTF-8 (a partial character) become U+FFFD.\n"
          "\n"
          "  --tokenizer PATH        as for xlstm tokenize\n"
          "  --skip-special-tokens   leave out special added tokens such as <|endoftext|>\n",
          {{"tokenizer"}, {"skip-special-tokens", false}},
          run_detokenize};
}

}  // namespace xlstm::cli
