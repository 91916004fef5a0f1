// sLSTM layer: conv, gate projections (with the reference's fgate/igate swap), cell, dropout, norm.
#include "xlstm/slstm/layer.h"

#include "xlstm/components/init.h"

namespace xlstm {

sLSTMLayerImpl::sLSTMLayerImpl(const sLSTMLayerConfig& cfg) : config(cfg) {
  const int64_t embed = cfg.embedding_dim;
  if (embed <= 0) throw ConfigError("embedding_dim", std::to_string(embed) + " must be positive");
  if (cfg.hidden_size != embed)
    throw ConfigError("hidden_size", std::to_string(cfg.hidden_size) + " differs from embedding_dim " +
                                         std::to_string(embed) + "; call post_init() on the config");
  if (cfg.conv1d_kernel_size < 0)
    throw ConfigError("conv1d_kernel_size", std::to_string(cfg.conv1d_kernel_size) + " must be >= 0");
  if (cfg.input_shape != "BSGNH" || cfg.output_shape != "BNSH")
    throw ConfigError(cfg.input_shape != "BSGNH" ? "input_shape" : "output_shape",
                      "the sLSTM layer needs the cell's default layouts (input_shape BSGNH, output_shape BNSH)");
  // The cell validates heads, function and init names before the head-wise projections do.
  auto cell = sLSTMCell(cfg);
  if (cfg.conv1d_kernel_size > 0) conv1d = register_module("conv1d", CausalConv1d(embed, cfg.conv1d_kernel_size));
  auto gate = [&] { return LinearHeadwiseExpand(embed, cfg.num_heads, 1.0, /*bias=*/false); };
  fgate = register_module("fgate", gate());
  igate = register_module("igate", gate());
  zgate = register_module("zgate", gate());
  ogate = register_module("ogate", gate());
  slstm_cell = register_module("slstm_cell", cell);
  group_norm = register_module("group_norm", MultiHeadLayerNorm(embed, cfg.group_norm_weight));
  dropout = register_module("dropout", torch::nn::Dropout(cfg.dropout));
  reset_parameters();
}

void sLSTMLayerImpl::reset_parameters() {
  if (conv1d) conv1d->reset_parameters();
  for (auto* g : {&fgate, &igate, &zgate, &ogate}) small_init_((*g)->weight, config.embedding_dim);
  slstm_cell->reset_parameters();
  group_norm->reset_parameters();
}

std::tuple<torch::Tensor, sLSTMLayerState> sLSTMLayerImpl::forward(const torch::Tensor& x,
                                                                    const sLSTMLayerState& state) {
  const int64_t embed = config.embedding_dim;
  TORCH_CHECK(x.dim() == 3 && x.size(1) >= 1 && x.size(2) == embed, "sLSTMLayer: expected input (B, S, ", embed,
              ") with S >= 1, got ", x.sizes());
  const int64_t batch = x.size(0), past = config.conv1d_kernel_size - 1;
  if (state.conv.defined())
    TORCH_CHECK(conv1d && state.conv.dim() == 3 && state.conv.size(0) == batch && state.conv.size(1) == past &&
                    state.conv.size(2) == embed,
                "sLSTMLayer: expected conv state (", batch, ", ", past, ", ", embed, "), got ", state.conv.sizes(),
                conv1d ? "" : " (this layer has no conv: conv1d_kernel_size = 0, pass no conv state)");
  if (state.slstm.defined())
    TORCH_CHECK(state.slstm.dim() == 3 && state.slstm.size(0) == 4 && state.slstm.size(1) == batch &&
                    state.slstm.size(2) == embed,
                "sLSTMLayer: expected slstm state (4, ", batch, ", ", embed, "), got ", state.slstm.sizes());

  const auto xw = x.to(fgate->weight.scalar_type());
  torch::Tensor xc = xw, conv_state;
  if (conv1d) {
    std::tie(xc, conv_state) = conv1d->forward(xw, state.conv);
    xc = torch::silu(xc);
  }
  // The reference's name swap: i-slot <- fgate, f-slot <- igate.
  const auto gates = torch::cat({fgate->forward(xc), igate->forward(xc), zgate->forward(xw), ogate->forward(xw)}, -1);
  auto [y, slstm_state] = slstm_cell->forward(gates, state.slstm);  // y (B, NH, S, DH)
  auto out = group_norm->forward(dropout->forward(y));              // (B, S, E)

  sLSTMLayerState next;
  next.slstm = slstm_state;
  if (conv_state.defined()) next.conv = conv_state.to(slstm_state.scalar_type());
  return {out, next};
}

std::tuple<torch::Tensor, sLSTMLayerState> sLSTMLayerImpl::step(const torch::Tensor& x, const sLSTMLayerState& state) {
  TORCH_CHECK(x.dim() == 3 && x.size(1) == 1, "sLSTMLayer::step: expected input (B, 1, ", config.embedding_dim,
              "), got ", x.sizes());
  return forward(x, state);
}

}  // namespace xlstm
