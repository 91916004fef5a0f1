// The block of xLSTM-Large (xlstm-spec.md §6.2): pre-norm residual mLSTM layer, then pre-norm
// residual SwiGLU feed-forward:
//   x = x + mlstm_layer(norm_mlstm(x));  x = x + ffn(norm_ffn(x))     (both norms RMSNorm)
#pragma once

#include <torch/torch.h>

#include <tuple>

#include "xlstm/components/feedforward.h"
#include "xlstm/components/norms.h"
#include "xlstm/config.h"
#include "xlstm/large/forward_options.h"
#include "xlstm/large/layer.h"
#include "xlstm/state.h"

namespace xlstm::large {

class mLSTMBlockImpl : public torch::nn::Module {
 public:
  explicit mLSTMBlockImpl(const xLSTMLargeConfig& config, const torch::TensorOptions& options = {});

  // x (B, S, E) -> (B, S, E) and the layer's cell state (see mLSTMLayer::forward).
  std::tuple<torch::Tensor, mLSTMState> forward(const torch::Tensor& x, const mLSTMState& state = {},
                                                const ForwardOptions& options = {});
  // One position x (B, 1, E) in inference mode (the step kernel).
  std::tuple<torch::Tensor, mLSTMState> step(const torch::Tensor& x, const mLSTMState& state = {});
  void reset_parameters();

  RMSNorm norm_mlstm{nullptr};
  mLSTMLayer mlstm_layer{nullptr};
  RMSNorm norm_ffn{nullptr};
  FeedForward ffn{nullptr};
};
TORCH_MODULE(mLSTMBlock);

// RMSNorm of width embedding_dim with the config's eps, bias and reduction settings (block and out norms).
RMSNorm make_rms_norm(const xLSTMLargeConfig& config, const torch::TensorOptions& options);

}  // namespace xlstm::large
