// Leftmost-longest matching of added tokens with the lstrip / rstrip rules of `tokenizers`
// (added_vocabulary.rs find_matches).
#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "xlstm/tokenizer/unicode.h"

namespace xlstm::tokenizer {
namespace {

// Start of the whitespace that ends text[0, end).
size_t whitespace_before(std::string_view text, size_t end) {
  size_t pos = end;
  while (pos > 0) {
    size_t start = pos - 1;
    while (start > 0 && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
    const unicode::Utf8Step step = unicode::decode_utf8(text, start);
    if (!step.valid || !unicode::is_whitespace(step.code_point)) break;
    pos = start;
  }
  return pos;
}

// End of the whitespace that starts at text[begin].
size_t whitespace_after(std::string_view text, size_t begin) {
  size_t pos = begin;
  while (pos < text.size()) {
    const unicode::Utf8Step step = unicode::decode_utf8(text, pos);
    if (!step.valid || !unicode::is_whitespace(step.code_point)) break;
    pos += step.length;
  }
  return pos;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  std::stable_sort(tokens_.begin(), tokens_.end(),
                   [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  by_first_byte_.resize(256);
  for (size_t i = 0; i < tokens_.size(); ++i)
    by_first_byte_[static_cast<uint8_t>(tokens_[i].content[0])].push_back(i);
}

std::vector<Segment> AddedTokenMatcher::split(std::string_view text) const {
  if (tokens_.empty()) return text.empty() ? std::vector<Segment>{} : std::vector<Segment>{{text, -1}};
  std::vector<Segment> segments;
  size_t done = 0;  // text before this offset is in `segments`
  for (size_t pos = 0; pos < text.size(); ++pos) {
    const AddedToken* match = nullptr;
    for (const size_t i : by_first_byte_[static_cast<uint8_t>(text[pos])])
      if (text.compare(pos, tokens_[i].content.size(), tokens_[i].content) == 0) {
        match = &tokens_[i];
        break;
      }
    if (!match) continue;
    size_t start = pos, stop = pos + match->content.size();
    if (match->lstrip) start = std::max(whitespace_before(text, start), done);
    if (match->rstrip) stop = whitespace_after(text, stop);
    if (done < start) segments.push_back({text.substr(done, start - done), -1});
    segments.push_back({text.substr(start, stop - start), match->id});
    done = stop;
    pos = stop - 1;
  }
  if (done < text.size()) segments.push_back({text.substr(done), -1});
  return segments;
}

}  // namespace xlstm::tokenizer
