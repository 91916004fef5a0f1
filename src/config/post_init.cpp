// The reference's __post_init__ chain (xlstm-spec.md §1): derived fields and the values the stack
// pushes down into its nested configs. Runs before validate(), so it must not crash on bad values:
// anything it cannot derive is left for validate() to report.
#include <cmath>
#include <limits>
#include <sstream>

#include "xlstm/config.h"

namespace xlstm {

int64_t round_proj_up_dim(double proj_factor, int64_t embedding_dim, bool round_up, int64_t multiple_of) {
  if (multiple_of <= 0 || embedding_dim <= 0 || !std::isfinite(proj_factor)) return 0;
  const double blocks = proj_factor * static_cast<double>(embedding_dim) / static_cast<double>(multiple_of);
  const double rounded = round_up ? std::ceil(blocks) : std::floor(blocks);
  // A dimension that does not fit int64 is reported by validate() (as 0 here, never an overflow).
  if (!(std::fabs(rounded) < static_cast<double>(std::numeric_limits<int64_t>::max() / multiple_of))) return 0;
  return static_cast<int64_t>(rounded) * multiple_of;
}

void mLSTMLayerConfig::post_init() {
  _proj_up_dim = round_proj_up_dim(proj_factor, embedding_dim, round_proj_up_dim_up, round_proj_up_to_multiple_of);
  _inner_embedding_dim = _proj_up_dim;
}

void mLSTMBlockConfig::post_init() {
  mlstm._num_blocks = _num_blocks;
  mlstm._block_idx = _block_idx;
  mlstm.post_init();
}

void sLSTMLayerConfig::post_init() {
  hidden_size = embedding_dim;
  if (num_heads <= 0) num_heads = 1;
  num_states = function == "lstm" ? 2 : 4;
}

void FeedForwardConfig::post_init() {
  _proj_up_dim = round_proj_up_dim(proj_factor, embedding_dim, round_proj_up_dim_up, round_proj_up_to_multiple_of);
}

void sLSTMBlockConfig::post_init() {
  slstm._block_idx = _block_idx;
  slstm._num_blocks = _num_blocks;
  slstm.post_init();
  if (feedforward) {
    // xLSTMBlockConfig: the FFN takes the layer's width and the stack's block count.
    feedforward->embedding_dim = slstm.embedding_dim;
    feedforward->_num_blocks = _num_blocks;
    feedforward->post_init();
  }
}

void xLSTMBlockStackConfig::post_init() {
  // Block counts outside [0, kMaxNumBlocks] are left for validate(); nothing below loops over them.
  const int64_t n = num_blocks >= 0 && num_blocks <= kMaxNumBlocks ? num_blocks : 0;
  if (!mlstm_block) {
    // Without an mLSTM block every block is an sLSTM block ("all").
    slstm_at.clear();
    for (int64_t i = 0; i < n; ++i) slstm_at.push_back(i);
  }
  if (mlstm_block) {
    auto& m = mlstm_block->mlstm;
    m.embedding_dim = embedding_dim;
    m.bias = bias;
    m.dropout = dropout;
    m.context_length = context_length;
    mlstm_block->_num_blocks = num_blocks;
    mlstm_block->post_init();
  }
  if (slstm_block) {
    auto& s = slstm_block->slstm;
    s.dropout = dropout;
    s.embedding_dim = embedding_dim;
    slstm_block->_num_blocks = num_blocks;
    slstm_block->post_init();
  }
  std::vector<bool> is_slstm(static_cast<size_t>(n), false);
  for (int64_t j : slstm_at)
    if (j >= 0 && j < n) is_slstm[static_cast<size_t>(j)] = true;  // out-of-range indices: validate()
  std::ostringstream map;
  for (int64_t i = 0; i < n; ++i) map << (i ? "," : "") << (is_slstm[static_cast<size_t>(i)] ? 1 : 0);
  _block_map = map.str();
}

std::vector<int> xLSTMBlockStackConfig::block_map() const {
  std::vector<int> out;
  for (char c : _block_map)
    if (c == '0' || c == '1') out.push_back(c - '0');
  return out;
}

mLSTMBlockConfig xLSTMBlockStackConfig::mlstm_block_config(int64_t block_idx) const {
  if (!mlstm_block) throw ConfigError("mlstm_block", "block " + std::to_string(block_idx) + " is an mLSTM block but no mlstm_block is configured");
  mLSTMBlockConfig c = *mlstm_block;
  c._block_idx = block_idx;
  c.post_init();
  return c;
}

sLSTMBlockConfig xLSTMBlockStackConfig::slstm_block_config(int64_t block_idx) const {
  if (!slstm_block) throw ConfigError("slstm_block", "block " + std::to_string(block_idx) + " is an sLSTM block but no slstm_block is configured");
  sLSTMBlockConfig c = *slstm_block;
  c._block_idx = block_idx;
  c.post_init();
  return c;
}

int64_t xLSTMLargeConfig::ffn_dim() const {
  // int(((E * pf + m - 1) // m) * m) with Python's float floor division.
  const double m = static_cast<double>(ffn_round_up_to_multiple_of);
  if (m <= 0) return 0;
  return static_cast<int64_t>(std::floor((embedding_dim * ffn_proj_factor + m - 1) / m) * m);
}

}  // namespace xlstm
