// Encoding and decoding of the Tokenizer (tokenizer.h): added tokens, normalization,
// pre-tokenization, BPE; decoding through the byte-level alphabet.
#include "xlstm/tokenizer/tokenizer.h"

#include <algorithm>
#include <deque>

#include "io/file_util.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer_impl.h"
#include "xlstm/tokenizer/pre_tokenizer.h"
#include "xlstm/tokenizer/unicode.h"

namespace xlstm::tokenizer {
namespace {

// The pieces of one text segment after all pre-tokenizer steps; `storage` holds pieces that are not
// views of `text` (those with a prefix space).
std::vector<std::string_view> pre_tokenize(std::string_view text, const std::vector<PreTokenizerStep>& steps,
                                           std::deque<std::string>& storage) {
  std::vector<std::string_view> pieces{text};
  for (const PreTokenizerStep& step : steps) {
    std::vector<std::string_view> next;
    next.reserve(pieces.size());
    for (std::string_view piece : pieces) {
      if (step.kind == PreTokenizerStep::Kind::byte_level && step.add_prefix_space &&
          (piece.empty() || piece[0] != ' '))
        piece = storage.emplace_back(" " + std::string(piece));
      if (step.kind == PreTokenizerStep::Kind::split_gpt2 || step.use_regex) {
        const auto split = split_gpt2(piece);
        next.insert(next.end(), split.begin(), split.end());
      } else if (!piece.empty()) {
        next.push_back(piece);
      }
    }
    pieces = std::move(next);
  }
  return pieces;
}

}  // namespace

void Tokenizer::Impl::finish() {
  std::vector<AddedToken> raw, normalized;
  for (const AddedToken& t : added_tokens) (t.normalized ? normalized : raw).push_back(t);
  raw_matcher = AddedTokenMatcher(std::move(raw));
  normalized_matcher = AddedTokenMatcher(std::move(normalized));

  int64_t size = 0;
  for (const auto& [text, id] : model->vocab()) size = std::max(size, id + 1);
  for (const AddedToken& t : added_tokens) size = std::max(size, t.id + 1);
  tokens.assign(size, {});
  token_bytes.assign(size, {});
  known.assign(size, 0);
  special.assign(size, 0);
  for (const auto& [text, id] : model->vocab()) {
    tokens[id] = text;
    token_bytes[id] = byte_level::to_bytes(text);
    known[id] = 1;
  }
  for (const AddedToken& t : added_tokens) {
    tokens[t.id] = t.content;
    token_bytes[t.id] = byte_level::to_bytes(t.content);
    known[t.id] = 1;
    special[t.id] = t.special;
    added_ids[t.content] = t.id;
  }
}

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Tokenizer Tokenizer::from_path(const std::string& path) {
  const std::string p = io::strip_trailing_slashes(path);
  switch (io::followed_path_kind(p)) {
    case io::PathKind::file:
      return from_tokenizer_json(p);
    case io::PathKind::directory:
      if (io::followed_path_kind(p + "/tokenizer.json") == io::PathKind::file) return from_tokenizer_json(p + "/tokenizer.json");
      if (io::followed_path_kind(p + "/encoder.json") == io::PathKind::file &&
          io::followed_path_kind(p + "/vocab.bpe") == io::PathKind::file)
        return from_gpt2_files(p + "/encoder.json", p + "/vocab.bpe");
      throw TokenizerError(p + ": the folder holds neither tokenizer.json nor encoder.json and vocab.bpe");
    case io::PathKind::missing:
      throw TokenizerError(p + ": no such file or folder");
    default:
      throw TokenizerError(p + ": neither a file nor a folder");
  }
}

std::vector<int64_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  if (const size_t bad = unicode::find_invalid_utf8(text); bad != std::string_view::npos)
    throw TokenizerError("cannot encode text that is not valid UTF-8 (byte " + std::to_string(bad) + ")");
  const Impl& impl = *impl_;
  std::vector<int64_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (add_special_tokens) ids = impl.prefix_ids;
  std::deque<std::string> storage;
  for (const Segment& raw : impl.raw_matcher.split(text)) {
    if (raw.id >= 0) {
      ids.push_back(raw.id);
      continue;
    }
    const std::string normalized = impl.normalizer == Normalizer::nfc ? unicode::nfc(raw.text) : std::string();
    const std::string_view view = impl.normalizer == Normalizer::nfc ? std::string_view(normalized) : raw.text;
    for (const Segment& segment : impl.normalized_matcher.split(view)) {
      if (segment.id >= 0) {
        ids.push_back(segment.id);
        continue;
      }
      for (const std::string_view piece : pre_tokenize(segment.text, impl.pre_tokenizers, storage))
        impl.model->encode_piece(piece, ids);
      storage.clear();
    }
  }
  if (add_special_tokens) ids.insert(ids.end(), impl.suffix_ids.begin(), impl.suffix_ids.end());
  return ids;
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  std::string bytes;
  for (const int64_t id : ids) {
    if (id < 0 || id >= vocab_size() || !impl_->known[id])
      throw TokenizerError("cannot decode the id " + std::to_string(id) + ": not in the vocabulary of " +
                           impl_->source);
    if (skip_special_tokens && impl_->special[id]) continue;
    bytes += impl_->token_bytes[id];
  }
  return unicode::to_valid_utf8(bytes);
}

int64_t Tokenizer::vocab_size() const { return static_cast<int64_t>(impl_->tokens.size()); }

std::optional<int64_t> Tokenizer::token_to_id(const std::string& token) const {
  if (const auto it = impl_->added_ids.find(token); it != impl_->added_ids.end()) return it->second;
  if (const auto it = impl_->model->vocab().find(token); it != impl_->model->vocab().end()) return it->second;
  return std::nullopt;
}

std::string Tokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= vocab_size() || !impl_->known[id])
    throw TokenizerError("the id " + std::to_string(id) + " is not in the vocabulary of " + impl_->source);
  return impl_->tokens[id];
}

const std::string& Tokenizer::source() const { return impl_->source; }

}  // namespace xlstm::tokenizer
