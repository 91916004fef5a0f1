// xLSTM-Large block: two pre-norm residual branches (mLSTM layer, feed-forward).
#include "xlstm/large/block.h"

namespace xlstm::large {

RMSNorm make_rms_norm(const xLSTMLargeConfig& config, const torch::TensorOptions& options) {
  return RMSNorm(config.embedding_dim, config.norm_eps, /*use_weight=*/true, config.use_bias,
                 config.norm_reduction_force_float32, options);
}

mLSTMBlockImpl::mLSTMBlockImpl(const xLSTMLargeConfig& config, const torch::TensorOptions& options) {
  norm_mlstm = register_module("norm_mlstm", make_rms_norm(config, options));
  mlstm_layer = register_module("mlstm_layer", mLSTMLayer(config, options));
  norm_ffn = register_module("norm_ffn", make_rms_norm(config, options));
  ffn = register_module("ffn", FeedForward(config.embedding_dim, config.ffn_dim(), config.use_bias,
                                           config.weight_mode == "fused", options));
}

void mLSTMBlockImpl::reset_parameters() {
  norm_mlstm->reset_parameters();
  mlstm_layer->reset_parameters();
  norm_ffn->reset_parameters();
  ffn->reset_parameters();
}

std::tuple<torch::Tensor, mLSTMState> mLSTMBlockImpl::forward(const torch::Tensor& x, const mLSTMState& state,
                                                              const ForwardOptions& options) {
  auto [y, next] = mlstm_layer->forward(norm_mlstm->forward(x), state, options);
  const auto h = x + y;
  return {h + ffn->forward(norm_ffn->forward(h)), next};
}

std::tuple<torch::Tensor, mLSTMState> mLSTMBlockImpl::step(const torch::Tensor& x, const mLSTMState& state) {
  return forward(x, state, step_options(x, "mLSTMBlock"));
}

}  // namespace xlstm::large
