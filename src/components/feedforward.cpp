// Gated feed-forward layers of both families.
#include "xlstm/components/feedforward.h"

#include <stdexcept>
#include <string>

#include "xlstm/components/activation.h"
#include "xlstm/components/init.h"

namespace xlstm {

namespace {
torch::nn::Linear linear(int64_t in, int64_t out, bool bias) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}
}  // namespace

GatedFeedForwardImpl::GatedFeedForwardImpl(const FeedForwardConfig& cfg) : config(cfg) {
  if (!is_activation(cfg.act_fn))
    throw std::invalid_argument("GatedFeedForward: unknown act_fn '" + cfg.act_fn + "'");
  if (cfg.embedding_dim <= 0 || cfg._proj_up_dim <= 0)
    throw std::invalid_argument("GatedFeedForward: embedding_dim (" + std::to_string(cfg.embedding_dim) +
                                ") and _proj_up_dim (" + std::to_string(cfg._proj_up_dim) +
                                ") must be positive; call post_init() on the config");
  proj_up = register_module("proj_up", linear(cfg.embedding_dim, 2 * cfg._proj_up_dim, cfg.bias));
  proj_down = register_module("proj_down", linear(cfg._proj_up_dim, cfg.embedding_dim, cfg.bias));
  dropout = register_module("dropout", torch::nn::Dropout(cfg.dropout));
  reset_parameters();
}

void GatedFeedForwardImpl::reset_parameters() {
  small_init_(proj_up->weight, config.embedding_dim);
  wang_init_(proj_down->weight, config.embedding_dim, config._num_blocks);
  torch::NoGradGuard no_grad;
  if (proj_up->bias.defined()) proj_up->bias.zero_();
  if (proj_down->bias.defined()) proj_down->bias.zero_();
}

torch::Tensor GatedFeedForwardImpl::forward(const torch::Tensor& x) {
  const auto h = proj_up->forward(x);
  const int64_t f = config._proj_up_dim;
  const auto gate = h.narrow(-1, 0, f), up = h.narrow(-1, f, f);
  return dropout->forward(proj_down->forward(apply_activation(config.act_fn, gate) * up));
}

namespace large {

FeedForwardImpl::FeedForwardImpl(int64_t embedding_dim, int64_t ffn_dim, bool use_bias, bool fused,
                                 const torch::TensorOptions& options)
    : ffn_dim_(ffn_dim), fused_(fused) {
  TORCH_CHECK(embedding_dim > 0 && ffn_dim > 0, "FeedForward: embedding_dim and ffn_dim must be positive, got ",
              embedding_dim, " and ", ffn_dim);
  if (fused) {
    proj_up_gate_z = register_module("proj_up_gate_z", Linear(embedding_dim, 2 * ffn_dim, use_bias, options));
  } else {
    proj_up_gate = register_module("proj_up_gate", Linear(embedding_dim, ffn_dim, use_bias, options));
    proj_up = register_module("proj_up", Linear(embedding_dim, ffn_dim, use_bias, options));
  }
  proj_down = register_module("proj_down", Linear(ffn_dim, embedding_dim, use_bias, options));
}

void FeedForwardImpl::reset_parameters() {
  for (const auto& l : {proj_up_gate, proj_up, proj_up_gate_z, proj_down})
    if (!l.is_empty()) l.ptr()->reset_parameters();
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) {
  torch::Tensor gate, up;
  if (fused_) {
    const auto h = proj_up_gate_z->forward(x);
    gate = h.narrow(-1, 0, ffn_dim_);
    up = h.narrow(-1, ffn_dim_, ffn_dim_);
  } else {
    gate = proj_up_gate->forward(x);
    up = proj_up->forward(x);
  }
  return proj_down->forward(torch::silu(gate) * up);
}

}  // namespace large
}  // namespace xlstm
