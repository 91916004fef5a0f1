// The GPT-2 pre-tokenizer: splits text into the pieces that BPE encodes separately, as the regex
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// does (leftmost-first alternation, greedy runs), written out by hand over UTF-8 code points with the
// Unicode classes of unicode.h. The contractions are case-sensitive ASCII; " ?" is U+0020 only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace xlstm::tokenizer {

// The exact pattern string, as it appears in tokenizer.json files (Split pre-tokenizers).
inline constexpr char kGpt2Pattern[] = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// The pieces of valid UTF-8 `text`, in order; their concatenation is `text`.
std::vector<std::string_view> split_gpt2(std::string_view text);

}  // namespace xlstm::tokenizer
