// xLSTMLargeBlockStack (xlstm-spec.md §6.2), the `backbone` of xLSTMLarge: num_blocks mLSTM blocks,
// then an RMSNorm `out_norm` when add_out_norm. Unlike the reference, states are returned as new
// tensors rather than copied into the passed ones.
#pragma once

#include <torch/torch.h>

#include <tuple>

#include "xlstm/components/norms.h"
#include "xlstm/config.h"
#include "xlstm/large/block.h"
#include "xlstm/large/forward_options.h"
#include "xlstm/large/state.h"

namespace xlstm::large {

class xLSTMLargeBlockStackImpl : public torch::nn::Module {
 public:
  explicit xLSTMLargeBlockStackImpl(const xLSTMLargeConfig& config, const torch::TensorOptions& options = {});

  // x (B, S, E) -> (B, S, E) and one cell state per block, or an empty vector when the mode returns
  // no state. `state` (empty: fresh) must already be checked (check_state).
  std::tuple<torch::Tensor, xLSTMLargeState> forward(const torch::Tensor& x, const xLSTMLargeState& state = {},
                                                     const ForwardOptions& options = {});
  // One position x (B, 1, E) in inference mode (the step kernel).
  std::tuple<torch::Tensor, xLSTMLargeState> step(const torch::Tensor& x, const xLSTMLargeState& state = {});
  void reset_parameters();

  torch::nn::ModuleList blocks;
  // Activation checkpointing, as xLSTMBlockStack::recompute_blocks: with grad mode on and no initial
  // state, each block keeps only its input and runs again in the backward pass. Off by default.
  bool recompute_blocks = false;
  int64_t recompute_count = -1;  // as xLSTMBlockStack::recompute_count: the first this many (negative: all)
  RMSNorm out_norm{nullptr};  // null without add_out_norm
};
TORCH_MODULE(xLSTMLargeBlockStack);

}  // namespace xlstm::large
