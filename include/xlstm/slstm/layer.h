// The sLSTM layer (the reference's sLSTMLayer, xlstm-spec.md §2.6): optional causal conv + SiLU,
// four head-wise gate projections, the sLSTM cell, dropout, per-head group norm. No output projection.
//
// Gate-name swap of the reference (kept so that its checkpoints load): the cell's input-gate slot is
// fed by `fgate(conv(x))` and its forget-gate slot by `igate(conv(x))`; z and o come from
// `zgate(x)` and `ogate(x)` on the un-convolved input.
#pragma once

#include <torch/torch.h>

#include <tuple>

#include "xlstm/components/causal_conv1d.h"
#include "xlstm/components/linear_headwise.h"
#include "xlstm/components/norms.h"
#include "xlstm/config.h"
#include "xlstm/slstm/cell.h"
#include "xlstm/state.h"

namespace xlstm {

class sLSTMLayerImpl : public torch::nn::Module {
 public:
  // cfg after post_init(). Throws ConfigError for what the cell rejects and for cell layouts other
  // than the defaults (input_shape BSGNH, output_shape BNSH), which the reference layer also needs.
  explicit sLSTMLayerImpl(const sLSTMLayerConfig& cfg);

  // Gate projections small_init(E), the cell's own init (cell.h), norm weight 0, conv PyTorch default.
  void reset_parameters();

  // x (B, S, E), S >= 1, cast to the parameters' dtype. state: conv (B, K-1, E) and slstm (4, B, E),
  // each undefined for zeros. Returns y (B, S, E) in the parameters' dtype and the new state
  // {conv: the last K-1 inputs (undefined when K = 0), slstm: [y, c, n, m] after the last step},
  // both fp32 (fp64 for fp64 parameters). Shape errors name the expected and actual shapes.
  std::tuple<torch::Tensor, sLSTMLayerState> forward(const torch::Tensor& x, const sLSTMLayerState& state = {});

  // One token, x (B, 1, E): forward with S = 1.
  std::tuple<torch::Tensor, sLSTMLayerState> step(const torch::Tensor& x, const sLSTMLayerState& state = {});

  sLSTMLayerConfig config;
  CausalConv1d conv1d{nullptr};  // only when conv1d_kernel_size > 0
  LinearHeadwiseExpand fgate{nullptr}, igate{nullptr}, zgate{nullptr}, ogate{nullptr};
  sLSTMCell slstm_cell{nullptr};
  MultiHeadLayerNorm group_norm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(sLSTMLayer);

}  // namespace xlstm
