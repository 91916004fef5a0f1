// The mLSTM layer of xLSTM-Large (xlstm-spec.md §6.2), input already RMS-normed, x (B, S, E):
//   q = Wq x, k = Wk x (qk_dim), v = Wv x, o = Wo x (v_dim)          (bias: use_bias)
//   ĩ = soft_cap(Wi x + bi), f̃ = soft_cap(Wf x + bf) (NH each)       (always with bias, cap gate_soft_cap)
//   h = mLSTM backend(q, k, v, ĩ, f̃, state) per head, per-head layer norm over DHV,
//   y = out_proj(σ(o) ⊙ norm(h)).
// weight_mode "single": parameters q, k, v, ogate_preact, igate_preact, fgate_preact; "fused":
// qkv_opreact (rows [q | k | v | o]) and ifgate_preact (rows [i | f]). No causal conv, no
// up-projection, no skip (unlike the NeurIPS mLSTM layer).
#pragma once

#include <torch/torch.h>

#include <tuple>

#include "xlstm/components/linear.h"
#include "xlstm/components/norms.h"
#include "xlstm/config.h"
#include "xlstm/large/backend.h"
#include "xlstm/large/forward_options.h"
#include "xlstm/state.h"

namespace xlstm::large {

class mLSTMLayerImpl : public torch::nn::Module {
 public:
  // config validated by the caller; parameters created with `options` (dtype, device, meta).
  explicit mLSTMLayerImpl(const xLSTMLargeConfig& config, const torch::TensorOptions& options = {});

  // x (B, S, E) -> y (B, S, E) and the cell state after the last position (empty when the mode
  // returns none, see backend.h). `options.mask` must already be checked to be (B, S) bool.
  std::tuple<torch::Tensor, mLSTMState> forward(const torch::Tensor& x, const mLSTMState& state = {},
                                                const ForwardOptions& options = {});
  // One position x (B, 1, E) in inference mode (the step kernel).
  std::tuple<torch::Tensor, mLSTMState> step(const torch::Tensor& x, const mLSTMState& state = {});
  void reset_parameters();  // PyTorch's Linear defaults, norm weight 1 (the reference has no init code)

  xLSTMLargeConfig config;
  mLSTMBackendConfig backend;
  Linear q{nullptr}, k{nullptr}, v{nullptr}, ogate_preact{nullptr}, igate_preact{nullptr},
      fgate_preact{nullptr};                             // single
  Linear qkv_opreact{nullptr}, ifgate_preact{nullptr};  // fused
  MultiHeadLayerNorm multihead_norm{nullptr};
  Linear out_proj{nullptr};
};
TORCH_MODULE(mLSTMLayer);

}  // namespace xlstm::large
