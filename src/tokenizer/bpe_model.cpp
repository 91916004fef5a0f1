// BPE merging of one piece over a linked list of symbols with a min-heap of candidate pairs ordered by
// (rank, position), as in `tokenizers` (word.rs merge_all): O(n log n) even for long pieces.
#include "tokenizer/bpe_model.h"

#include <limits>
#include <queue>

#include "tokenizer/byte_level.h"
#include "io/json_text.h"
#include "xlstm/tokenizer/error.h"

namespace xlstm::tokenizer {
namespace {

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

}  // namespace

BpeModel::BpeModel(Vocab vocab, const Merges& merges, const BpeOptions& options,
                   const std::function<std::string(size_t)>& merge_location)
    : vocab_(std::move(vocab)), options_(options) {
  for (const auto& [token, id] : vocab_)
    if (id < 0 || id > std::numeric_limits<int32_t>::max())
      throw TokenizerError("token " + io::json_text::quote(token) + " has the id " + std::to_string(id) +
                           ", outside [0, 2^31)");
  const auto id_of = [&](const std::string& token, size_t i) {
    const auto it = vocab_.find(token);
    if (it == vocab_.end())
      throw TokenizerError(merge_location(i) + ": the merge \"" + merges[i].first + " " + merges[i].second +
                           "\" needs " + io::json_text::quote(token) + ", which is not in the vocabulary");
    return static_cast<int32_t>(it->second);
  };
  if (merges.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw TokenizerError("more than 2^31 merges");
  merges_.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const int32_t left = id_of(merges[i].first, i), right = id_of(merges[i].second, i);
    const int32_t result = id_of(merges[i].first + merges[i].second, i);
    merges_[pair_key(left, right)] = Merge{static_cast<int32_t>(i), result};
  }
  for (int b = 0; b < 256; ++b) {
    std::string text = byte_level::to_token_text(std::string(1, static_cast<char>(b)));
    const auto it = vocab_.find(text);
    byte_ids_[b] = it == vocab_.end() ? -1 : static_cast<int32_t>(it->second);
  }
}

const BpeModel::Merge* BpeModel::find_merge(int32_t left, int32_t right) const {
  const auto it = merges_.find(pair_key(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

std::vector<int64_t> BpeModel::merge_piece(std::string_view bytes) const {
  if (options_.ignore_merges) {
    const auto it = vocab_.find(byte_level::to_token_text(bytes));
    if (it != vocab_.end()) return {it->second};
  }
  // The initial symbols: one per byte (unknown bytes as unk, fused when asked, or dropped).
  struct Symbol {
    int32_t id, prev, next;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(bytes.size());
  for (const char ch : bytes) {
    int32_t id = byte_ids_[static_cast<uint8_t>(ch)];
    if (id < 0) {
      if (!options_.unk_id) continue;
      id = static_cast<int32_t>(*options_.unk_id);
      if (options_.fuse_unk && !symbols.empty() && symbols.back().id == id) continue;
    }
    const auto n = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, n - 1, n + 1});
  }
  if (!symbols.empty()) symbols.back().next = -1;

  struct Candidate {
    int32_t rank, pos, result;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  const auto push_pair = [&](int32_t pos) {
    if (pos < 0 || symbols[pos].next < 0) return;
    if (const Merge* m = find_merge(symbols[pos].id, symbols[symbols[pos].next].id))
      queue.push({m->rank, pos, m->result});
  };
  for (int32_t pos = 0; pos + 1 < static_cast<int32_t>(symbols.size()); ++pos) push_pair(pos);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (left.id < 0 || left.next < 0) continue;  // removed, or no right neighbour any more
    const Merge* m = find_merge(left.id, symbols[left.next].id);
    if (!m || m->result != top.result) continue;  // the pair changed since it was queued
    Symbol& right = symbols[left.next];
    left.id = top.result;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    right.id = -1;
    push_pair(left.prev);
    push_pair(top.pos);
  }
  std::vector<int64_t> ids;
  for (int32_t pos = symbols.empty() ? -1 : 0; pos >= 0; pos = symbols[pos].next) ids.push_back(symbols[pos].id);
  return ids;
}

void BpeModel::encode_piece(std::string_view bytes, std::vector<int64_t>& ids) const {
  const std::string key(bytes);
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = cache_.find(key);
    if (it != cache_.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int64_t> piece_ids = merge_piece(bytes);
  ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= kCacheCapacity) cache_.clear();
  cache_.emplace(key, std::move(piece_ids));
}

}  // namespace xlstm::tokenizer
