// The byte-level BPE model: a vocabulary (token text -> id) and ranked merges. Encodes one
// pre-tokenized piece (raw bytes) into ids: each byte becomes the token of its byte-level character,
// then the lowest-ranked adjacent pair is merged, leftmost first, until no pair has a merge (the
// algorithm of `tokenizers`, which gives GPT-2's results). Results are cached per piece.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace xlstm::tokenizer {

struct BpeOptions {
  std::optional<int64_t> unk_id;  // for a byte whose character is not in the vocabulary (else dropped)
  bool fuse_unk = false;          // consecutive unknown bytes give one unk token
  bool ignore_merges = false;     // a piece that is a vocabulary entry as a whole is that token
};

class BpeModel {
 public:
  using Vocab = std::unordered_map<std::string, int64_t>;
  using Merges = std::vector<std::pair<std::string, std::string>>;

  // Validates the merges against the vocabulary: both parts and their concatenation must be entries;
  // TokenizerError names the merge with `merge_location(i)` (e.g. "vocab.bpe line 7"). A pair listed
  // twice keeps its last rank.
  BpeModel(Vocab vocab, const Merges& merges, const BpeOptions& options,
           const std::function<std::string(size_t)>& merge_location);

  // Appends the ids of one piece.
  void encode_piece(std::string_view bytes, std::vector<int64_t>& ids) const;

  const Vocab& vocab() const { return vocab_; }

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  const Merge* find_merge(int32_t left, int32_t right) const;
  std::vector<int64_t> merge_piece(std::string_view bytes) const;

  Vocab vocab_;
  BpeOptions options_;
  std::unordered_map<uint64_t, Merge> merges_;  // (left << 32 | right) -> rank and merged id
  int32_t byte_ids_[256];                        // id of each byte's character, -1 when missing

  static constexpr size_t kCacheCapacity = 1 << 16;  // entries; the cache is cleared when full
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

}  // namespace xlstm::tokenizer
