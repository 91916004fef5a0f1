// Helpers of the tokenizer tests: the committed data (tests/data/tokenizer), JSON lines, the
// tokenizer.json variants assembled from gpt2_tokenizer.json and an overlay, and small vocabularies.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "temp_dir.h"
#include "testing.h"

namespace xlstm::testing {

using json = nlohmann::json;

inline std::string tokenizer_data(const std::string& name) { return source_path("tests/data/tokenizer/" + name); }
inline std::string gpt2_dir() { return shared_dir() + "/data/gpt2"; }

inline std::vector<json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

// Writes the tokenizer.json of a variant ("gpt2", "neox", "prefix"; see generate_vectors.py) into
// `dir` and returns its path.
inline std::string write_variant(const TempDir& dir, const std::string& variant) {
  json tokenizer = json::parse(read_bytes(tokenizer_data("gpt2_tokenizer.json")));
  if (variant != "gpt2") {
    const json overlay = json::parse(read_bytes(tokenizer_data(variant + "_overlay.json")));
    for (const auto& [key, value] : overlay["replace"].items()) tokenizer[key] = value;
    if (overlay["merges_as_strings"].get<bool>())
      for (json& merge : tokenizer["model"]["merges"])
        merge = merge[0].get<std::string>() + " " + merge[1].get<std::string>();
  }
  const std::string path = dir.file(variant + "_tokenizer.json");
  write_bytes(path, tokenizer.dump());
  return path;
}

// A small byte-level vocabulary: the 256 byte characters (ids 0..255 in byte order) plus the merges
// "h e" -> "he" (256), "l l" -> "ll" (257), "he ll" -> "hell" (258), "hell o" -> "hello" (259).
inline json small_vocab() {
  const std::vector<std::string> chars = [] {
    std::vector<std::string> c;
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const int cp = printable ? b : next++;
      std::string s;
      if (cp < 0x80) {
        s += static_cast<char>(cp);
      } else {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
      }
      c.push_back(s);
    }
    return c;
  }();
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[chars[b]] = b;
  vocab["he"] = 256;
  vocab["ll"] = 257;
  vocab["hell"] = 258;
  vocab["hello"] = 259;
  return vocab;
}
inline const char* small_merges_text() { return "#version: 0.2\nh e\nl l\nhe ll\nhell o\n"; }

// A minimal valid tokenizer.json over small_vocab(), to be broken by the error tests.
inline json small_tokenizer_json() {
  return json{{"version", "1.0"},
              {"added_tokens", json::array({json{{"id", 260}, {"content", "<|endoftext|>"}, {"single_word", false},
                                                 {"lstrip", false}, {"rstrip", false}, {"normalized", false},
                                                 {"special", true}}})},
              {"normalizer", nullptr},
              {"pre_tokenizer", json{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
              {"post_processor", nullptr},
              {"decoder", json{{"type", "ByteLevel"}}},
              {"model", json{{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
                             {"vocab", small_vocab()},
                             {"merges", json::array({"h e", "l l", json::array({"he", "ll"}), "hell o"})}}}};
}

}  // namespace xlstm::testing
