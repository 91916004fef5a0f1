// Unicode Normalization Form C (UAX #15): full canonical decomposition, canonical ordering of
// combining marks, then canonical composition of starters with the marks that are not blocked.
// Hangul syllables are decomposed and composed algorithmically (Unicode §3.12).
#include <algorithm>
#include <unordered_map>
#include <vector>

#include "tokenizer/unicode_tables.h"
#include "xlstm/tokenizer/unicode.h"

namespace xlstm::tokenizer::unicode {
namespace {

constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

const tables::Decomposition* find_decomposition(char32_t c) {
  const auto* begin = tables::kDecompositions;
  const auto* end = begin + tables::kDecompositionsSize;
  const auto* it = std::lower_bound(begin, end, c, [](const tables::Decomposition& d, char32_t v) { return d.code_point < v; });
  return it != end && it->code_point == c ? it : nullptr;
}

// Appends the full canonical decomposition of c, keeping combining marks in canonical order.
void decompose(char32_t c, std::vector<char32_t>& out) {
  if (c >= kSBase && c < kSBase + kSCount) {
    const char32_t s = c - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  if (const auto* d = find_decomposition(c)) {
    decompose(d->first, out);
    if (d->second != 0) decompose(d->second, out);
    return;
  }
  const uint8_t cc = combining_class(c);
  size_t pos = out.size();
  while (cc != 0 && pos > 0 && combining_class(out[pos - 1]) > cc) --pos;
  out.insert(out.begin() + static_cast<std::ptrdiff_t>(pos), c);
}

// The primary composite of (first, second), or 0.
char32_t compose(char32_t first, char32_t second) {
  if (first >= kLBase && first < kLBase + kLCount && second >= kVBase && second < kVBase + kVCount)
    return kSBase + ((first - kLBase) * kVCount + (second - kVBase)) * kTCount;
  if (first >= kSBase && first < kSBase + kSCount && (first - kSBase) % kTCount == 0 && second > kTBase &&
      second < kTBase + kTCount)
    return first + (second - kTBase);
  static const std::unordered_map<uint64_t, char32_t> pairs = [] {
    std::unordered_map<uint64_t, char32_t> map;
    for (size_t i = 0; i < tables::kDecompositionsSize; ++i) {
      const auto& d = tables::kDecompositions[i];
      if (d.composes) map.emplace((uint64_t{d.first} << 32) | d.second, d.code_point);
    }
    return map;
  }();
  const auto it = pairs.find((uint64_t{first} << 32) | second);
  return it == pairs.end() ? 0 : it->second;
}

}  // namespace

std::string nfc(std::string_view text) {
  if (std::all_of(text.begin(), text.end(), [](char ch) { return static_cast<uint8_t>(ch) < 0x80; }))
    return std::string(text);
  std::vector<char32_t> chars;
  chars.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Step step = decode_utf8(text, pos);
    decompose(step.valid ? step.code_point : kReplacementCharacter, chars);
    pos += step.length;
  }
  // Composition (the UAX #15 sample algorithm): last_class is the class of the last character kept
  // after the current starter (0: none, the starter is adjacent; 256: no starter yet).
  size_t starter = 0, kept = 0;
  int last_class = 256;
  for (size_t i = 0; i < chars.size(); ++i) {
    const char32_t c = chars[i];
    const int cc = combining_class(c);
    const bool reachable = kept > 0 && last_class != 256 && (last_class < cc || last_class == 0);
    if (reachable) {
      if (const char32_t composite = compose(chars[starter], c)) {
        chars[starter] = composite;
        continue;
      }
    }
    if (cc == 0) {
      starter = kept;
      last_class = 0;
    } else if (last_class != 256) {
      last_class = cc;
    }
    chars[kept++] = c;
  }
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < kept; ++i) append_utf8(out, chars[i]);
  return out;
}

}  // namespace xlstm::tokenizer::unicode
