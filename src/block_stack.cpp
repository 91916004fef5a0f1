// xLSTMBlockStack: builds the blocks of the block map and threads the per-block states.
#include "xlstm/block_stack.h"

#include "xlstm/recompute.h"

namespace xlstm {

xLSTMBlockStackImpl::xLSTMBlockStackImpl(const xLSTMBlockStackConfig& cfg) : config(cfg) {
  const auto map = cfg.block_map();
  TORCH_CHECK(static_cast<int64_t>(map.size()) == cfg.num_blocks, "xLSTMBlockStack: block map '", cfg._block_map,
              "' does not have num_blocks = ", cfg.num_blocks, " entries (did you call post_init()?)");
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < cfg.num_blocks; ++i) {
    if (map[i] == 1) {
      blocks->push_back(xLSTMBlock(cfg.slstm_block_config(i)));
    } else {
      blocks->push_back(xLSTMBlock(cfg.mlstm_block_config(i)));
    }
  }
  if (cfg.add_post_blocks_norm)
    post_blocks_norm = register_module("post_blocks_norm", LayerNorm(cfg.embedding_dim, true, false));
}

void xLSTMBlockStackImpl::recompute_chunk_states(int64_t count) {
  size_t m = 0;  // mLSTM blocks so far
  for (size_t i = 0; i < blocks->size(); ++i) {
    xLSTMBlock b = block(i);
    if (b->is_slstm()) continue;
    b->mlstm_layer->mlstm_cell->keep_chunk_states = !recomputes_block(count, m++);
  }
}

void xLSTMBlockStackImpl::reset_parameters() {
  for (size_t i = 0; i < blocks->size(); ++i) block(i)->reset_parameters();
  if (!post_blocks_norm.is_empty()) post_blocks_norm->reset_parameters();
}

std::tuple<torch::Tensor, xLSTMStackState> xLSTMBlockStackImpl::forward(const torch::Tensor& x,
                                                                        const xLSTMStackState& state) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == config.embedding_dim, "xLSTMBlockStack: input must be (B, S, ",
              config.embedding_dim, "), got ", x.sizes());
  TORCH_CHECK(state.empty() || state.size() == blocks->size(), "xLSTMBlockStack: the state has ", state.size(),
              " block entries, the stack has ", blocks->size(), " blocks");
  xLSTMStackState next(blocks->size());
  auto y = x;
  const bool recompute = recompute_blocks && state.empty() && torch::GradMode::is_enabled();
  for (size_t i = 0; i < blocks->size(); ++i) {
    if (recompute && recomputes_block(recompute_count, i)) {
      std::tie(y, next[i]) = recompute_block<xLSTMBlockState>(
          [b = blocks->ptr<xLSTMBlockImpl>(i)](const torch::Tensor& in) { return b->forward(in, xLSTMBlockState{}); }, y);
      continue;
    }
    auto out = block(i)->forward(y, state.empty() ? xLSTMBlockState{} : state[i]);
    y = std::get<0>(out);
    next[i] = std::get<1>(out);
  }
  if (!post_blocks_norm.is_empty()) y = post_blocks_norm->forward(y);
  return {y, next};
}

std::tuple<torch::Tensor, xLSTMStackState> xLSTMBlockStackImpl::step(const torch::Tensor& x,
                                                                     const xLSTMStackState& state) {
  TORCH_CHECK(x.dim() == 3 && x.size(1) == 1, "xLSTMBlockStack::step: input must be (B, 1, E), got ", x.sizes());
  return forward(x, state);
}

}  // namespace xlstm
