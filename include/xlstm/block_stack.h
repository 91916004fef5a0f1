// xLSTMBlockStack (xlstm-spec.md §1.10, §2.7): blocks in block-map order (mLSTM or sLSTM blocks built
// from per-index copies of the block configs), then the post-blocks LayerNorm.
#pragma once

#include <torch/torch.h>

#include <tuple>

#include "xlstm/block.h"
#include "xlstm/config.h"
#include "xlstm/state.h"

namespace xlstm {

class xLSTMBlockStackImpl : public torch::nn::Module {
 public:
  explicit xLSTMBlockStackImpl(const xLSTMBlockStackConfig& config);  // config after post_init()

  // x (B, S, E) -> (B, S, E); state: one entry per block, or empty for zeros. Any S >= 1.
  std::tuple<torch::Tensor, xLSTMStackState> forward(const torch::Tensor& x, const xLSTMStackState& state = {});
  std::tuple<torch::Tensor, xLSTMStackState> step(const torch::Tensor& x, const xLSTMStackState& state = {});
  void reset_parameters();

  xLSTMBlockStackConfig config;
  // Activation checkpointing (xlstm/recompute.h): with grad mode on and no initial state, each block
  // keeps only its input and runs again during the backward pass (one more forward of the blocks for
  // memory of one saved (B, S, E) tensor per block); the returned states are then those of the first,
  // gradient-free run. Off by default; the `training.recompute_blocks` config key turns it on.
  bool recompute_blocks = false;
  // With recompute_blocks: only the first this many blocks (the others keep their activations, for
  // speed where memory allows); negative: every block (`training.recompute_block_count`).
  int64_t recompute_count = -1;
  // The first `count` mLSTM blocks (negative: all, 0: none, the default) recompute their cells' chunk
  // states in the backward instead of keeping the forward's (mLSTMCell::keep_chunk_states): on CUDA one
  // more recurrent pass each, for B NH ceil(S / chunk_size) DH^2 elements of memory each; a cheaper
  // trade than recompute_blocks where it frees enough (`training.recompute_chunk_states`).
  void recompute_chunk_states(int64_t count);
  torch::nn::ModuleList blocks{nullptr};
  LayerNorm post_blocks_norm{nullptr};  // null when add_post_blocks_norm is false

  xLSTMBlock block(size_t index) const { return xLSTMBlock(blocks->ptr<xLSTMBlockImpl>(index)); }
};
TORCH_MODULE(xLSTMBlockStack);

}  // namespace xlstm
