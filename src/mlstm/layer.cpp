// mLSTMLayer: the pre-up-projection block body of the NeurIPS mLSTM block.
#include "xlstm/mlstm/layer.h"

#include "xlstm/components/init.h"
#include "xlstm/ops.h"

namespace xlstm {

mLSTMLayerImpl::mLSTMLayerImpl(const mLSTMLayerConfig& cfg) : config(cfg) {
  const int64_t E = cfg.embedding_dim, Di = cfg._inner_embedding_dim;
  TORCH_CHECK(E > 0 && Di > 0, "mLSTMLayer: embedding_dim ", E, " and inner dim ", Di,
              " must be positive (did you call post_init()?)");
  TORCH_CHECK(cfg.qkv_proj_blocksize > 0 && Di % cfg.qkv_proj_blocksize == 0, "mLSTMLayer: qkv_proj_blocksize ",
              cfg.qkv_proj_blocksize, " must divide the inner dim ", Di);
  const int64_t blocks = Di / cfg.qkv_proj_blocksize;
  learnable_skip = register_parameter("learnable_skip", torch::ones({Di}));
  proj_up = register_module("proj_up", torch::nn::Linear(torch::nn::LinearOptions(E, 2 * Di).bias(cfg.bias)));
  q_proj = register_module("q_proj", LinearHeadwiseExpand(Di, blocks, 1.0, cfg.bias));
  k_proj = register_module("k_proj", LinearHeadwiseExpand(Di, blocks, 1.0, cfg.bias));
  v_proj = register_module("v_proj", LinearHeadwiseExpand(Di, blocks, 1.0, cfg.bias));
  conv1d = register_module("conv1d", CausalConv1d(Di, cfg.conv1d_kernel_size));
  mlstm_cell = register_module("mlstm_cell", mLSTMCell(cfg));
  proj_down = register_module("proj_down", torch::nn::Linear(torch::nn::LinearOptions(Di, E).bias(cfg.bias)));
  dropout = register_module("dropout", torch::nn::Dropout(cfg.dropout));
  reset_parameters();
}

void mLSTMLayerImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  const int64_t E = config.embedding_dim;
  small_init_(proj_up->weight, E);
  if (proj_up->bias.defined()) proj_up->bias.zero_();
  wang_init_(proj_down->weight, E, config._num_blocks);
  if (proj_down->bias.defined()) proj_down->bias.zero_();
  learnable_skip.fill_(1.0);
  for (auto* proj : {&q_proj, &k_proj, &v_proj}) {
    small_init_((*proj)->weight, E);
    if ((*proj)->bias.defined()) (*proj)->bias.zero_();
  }
  conv1d->reset_parameters();
  mlstm_cell->reset_parameters();
}

std::tuple<torch::Tensor, mLSTMLayerState> mLSTMLayerImpl::forward(const torch::Tensor& x,
                                                                   const mLSTMLayerState& state) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == config.embedding_dim, "mLSTMLayer: input must be (B, S, ",
              config.embedding_dim, "), got ", x.sizes());
  auto xz = proj_up->forward(x).chunk(2, -1);
  const auto& x_m = xz[0];
  const auto& z = xz[1];
  // Convolution, SiLU and the q/k/v projections: one fused op on CUDA for a fresh sequence (no
  // convolution state to continue), the modules elsewhere.
  torch::Tensor c, q, k, v, conv_state;
  std::optional<std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor>> fused;
  if (!state.conv.defined() && conv1d->kernel_size() > 0)
    fused = ops::conv_qkv_on_device(x_m, conv1d->conv->weight, conv1d->conv->bias, q_proj->weight, k_proj->weight,
                                    v_proj->weight, q_proj->bias, k_proj->bias, v_proj->bias);
  if (fused) {
    std::tie(c, q, k, v) = *fused;
    conv_state = conv1d->next_state(x_m);
  } else {
    torch::Tensor conv_out;
    std::tie(conv_out, conv_state) = conv1d->forward(x_m, state.conv);
    c = torch::silu(conv_out);
    q = q_proj->forward(c);
    k = k_proj->forward(c);
    v = v_proj->forward(x_m);
  }
  auto [h_cell, cell_state] = mlstm_cell->recurrence(q, k, v, state.cell);
  // outnorm, learnable skip and output gate: one fused op on CUDA, the modules elsewhere.
  auto& norm = mlstm_cell->outnorm;
  auto h = ops::norm_skip_gate_on_device(h_cell, c, z, norm->weight, learnable_skip, norm->eps());
  if (!h) h = (norm->forward(h_cell) + learnable_skip * c) * torch::silu(z);
  auto y = dropout->forward(proj_down->forward(*h));
  return {y, mLSTMLayerState{conv_state, cell_state}};
}

std::tuple<torch::Tensor, mLSTMLayerState> mLSTMLayerImpl::step(const torch::Tensor& x, const mLSTMLayerState& state) {
  TORCH_CHECK(x.dim() == 3 && x.size(1) == 1, "mLSTMLayer::step: input must be (B, 1, E), got ", x.sizes());
  return forward(x, state);
}

}  // namespace xlstm
