// mLSTMLayer of the NeurIPS family (xlstm-spec.md §2.4): up-projection, causal conv, head-wise q/k/v,
// the mLSTM cell, learnable skip, SiLU output gate, down-projection.
#pragma once

#include <torch/torch.h>

#include <tuple>

#include "xlstm/components/causal_conv1d.h"
#include "xlstm/components/linear_headwise.h"
#include "xlstm/config.h"
#include "xlstm/mlstm/cell.h"
#include "xlstm/state.h"

namespace xlstm {

class mLSTMLayerImpl : public torch::nn::Module {
 public:
  explicit mLSTMLayerImpl(const mLSTMLayerConfig& config);  // config after post_init()

  // x (B, S, E) -> y (B, S, E) and the state after the last token; any S >= 1.
  std::tuple<torch::Tensor, mLSTMLayerState> forward(const torch::Tensor& x, const mLSTMLayerState& state = {});
  // One token x (B, 1, E); equal to forward on that token.
  std::tuple<torch::Tensor, mLSTMLayerState> step(const torch::Tensor& x, const mLSTMLayerState& state = {});
  void reset_parameters();

  mLSTMLayerConfig config;
  torch::Tensor learnable_skip;
  torch::nn::Linear proj_up{nullptr}, proj_down{nullptr};
  LinearHeadwiseExpand q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr};
  CausalConv1d conv1d{nullptr};
  mLSTMCell mlstm_cell{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(mLSTMLayer);

}  // namespace xlstm
