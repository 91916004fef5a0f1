// xLSTMBlock (xlstm-spec.md §2.7): pre-norm residual block around an mLSTM or an sLSTM layer, plus
// (sLSTM blocks) a gated feed-forward with its own pre-norm:
//   x = x + xlstm(xlstm_norm(x));  x = x + ffn(ffn_norm(x)).
// mLSTMBlock and sLSTMBlock are the two kinds, as in the reference.
#pragma once

#include <torch/torch.h>

#include <tuple>

#include "xlstm/components/feedforward.h"
#include "xlstm/components/norms.h"
#include "xlstm/config.h"
#include "xlstm/mlstm/layer.h"
#include "xlstm/slstm/layer.h"
#include "xlstm/state.h"

namespace xlstm {

class xLSTMBlockImpl : public torch::nn::Module {
 public:
  explicit xLSTMBlockImpl(const mLSTMBlockConfig& config);  // configs after post_init()
  explicit xLSTMBlockImpl(const sLSTMBlockConfig& config);

  std::tuple<torch::Tensor, xLSTMBlockState> forward(const torch::Tensor& x, const xLSTMBlockState& state = {});
  std::tuple<torch::Tensor, xLSTMBlockState> step(const torch::Tensor& x, const xLSTMBlockState& state = {});
  void reset_parameters();

  bool is_slstm() const { return !slstm_layer.is_empty(); }

  LayerNorm xlstm_norm{nullptr}, ffn_norm{nullptr};
  mLSTMLayer mlstm_layer{nullptr};  // registered as "xlstm" in mLSTM blocks
  sLSTMLayer slstm_layer{nullptr};  // registered as "xlstm" in sLSTM blocks
  GatedFeedForward ffn{nullptr};

 private:
  void add_ffn(const std::optional<FeedForwardConfig>& config, int64_t embedding_dim);
};
TORCH_MODULE(xLSTMBlock);

inline xLSTMBlock mLSTMBlock(const mLSTMBlockConfig& config) { return xLSTMBlock(config); }
inline xLSTMBlock sLSTMBlock(const sLSTMBlockConfig& config) { return xLSTMBlock(config); }

}  // namespace xlstm
