// xLSTMBlock: pre-norm residual wrapper of an mLSTM or sLSTM layer with an optional FFN.
#include "xlstm/block.h"

namespace xlstm {

xLSTMBlockImpl::xLSTMBlockImpl(const mLSTMBlockConfig& config) {
  const int64_t E = config.mlstm.embedding_dim;
  xlstm_norm = register_module("xlstm_norm", LayerNorm(E, /*weight=*/true, /*bias=*/false));
  xlstm_norm->feeds_linear(true);  // the layer's up-projection
  mlstm_layer = register_module("xlstm", mLSTMLayer(config.mlstm));
}

xLSTMBlockImpl::xLSTMBlockImpl(const sLSTMBlockConfig& config) {
  const int64_t E = config.slstm.embedding_dim;
  xlstm_norm = register_module("xlstm_norm", LayerNorm(E, /*weight=*/true, /*bias=*/false));
  slstm_layer = register_module("xlstm", sLSTMLayer(config.slstm));
  add_ffn(config.feedforward, E);
}

void xLSTMBlockImpl::add_ffn(const std::optional<FeedForwardConfig>& config, int64_t embedding_dim) {
  if (!config) return;
  ffn_norm = register_module("ffn_norm", LayerNorm(embedding_dim, /*weight=*/true, /*bias=*/false));
  ffn_norm->feeds_linear(true);  // the FFN's up-projection
  ffn = register_module("ffn", GatedFeedForward(*config));
}

void xLSTMBlockImpl::reset_parameters() {
  xlstm_norm->reset_parameters();
  if (is_slstm()) {
    slstm_layer->reset_parameters();
  } else {
    mlstm_layer->reset_parameters();
  }
  if (!ffn.is_empty()) {
    ffn_norm->reset_parameters();
    ffn->reset_parameters();
  }
}

std::tuple<torch::Tensor, xLSTMBlockState> xLSTMBlockImpl::forward(const torch::Tensor& x,
                                                                   const xLSTMBlockState& state) {
  xLSTMBlockState next;
  torch::Tensor y;
  if (is_slstm()) {
    auto [out, layer_state] = slstm_layer->forward(xlstm_norm->forward(x), state.slstm);
    y = x + out;
    next.slstm = layer_state;
  } else {
    auto [out, layer_state] = mlstm_layer->forward(xlstm_norm->forward(x), state.mlstm);
    y = x + out;
    next.mlstm = layer_state;
  }
  if (!ffn.is_empty()) y = y + ffn->forward(ffn_norm->forward(y));
  return {y, next};
}

std::tuple<torch::Tensor, xLSTMBlockState> xLSTMBlockImpl::step(const torch::Tensor& x, const xLSTMBlockState& state) {
  TORCH_CHECK(x.dim() == 3 && x.size(1) == 1, "xLSTMBlock::step: input must be (B, 1, E), got ", x.sizes());
  return forward(x, state);
}

}  // namespace xlstm
