// xLSTM-Large mLSTM layer: projections, soft-capped gates, backend, per-head norm, output gate.
#include "xlstm/large/layer.h"

#include "xlstm/components/activation.h"

namespace xlstm::large {

namespace {

// Gate pre-activations at padding positions: exp(ĩ - m) = 0 and logσ(f̃) = 0 exactly in fp32, so C,
// n and m are carried through unchanged. Finite, so a chunk made only of padding stays NaN-free.
constexpr double kClosedInputGate = -1e30;
constexpr double kOpenForgetGate = 1e30;

// (B, S, NH) pre-activation -> (B, NH, S) fp32, padding positions set to `fill`.
torch::Tensor gate(const torch::Tensor& preact, const torch::Tensor& mask, double fill) {
  auto g = preact.transpose(1, 2).to(preact.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32);
  return mask.defined() ? g.masked_fill(mask.logical_not().unsqueeze(1), fill) : g;
}

// (B, S, NH·D) -> (B, NH, S, D)
torch::Tensor heads(const torch::Tensor& x, int64_t num_heads) {
  return x.reshape({x.size(0), x.size(1), num_heads, -1}).transpose(1, 2);
}

}  // namespace

mLSTMLayerImpl::mLSTMLayerImpl(const xLSTMLargeConfig& cfg, const torch::TensorOptions& options)
    : config(cfg), backend(mLSTMBackendConfig::from(cfg)) {
  const int64_t E = cfg.embedding_dim, NH = cfg.num_heads, qk = cfg.qk_dim(), vd = cfg.v_dim();
  if (cfg.weight_mode == "fused") {
    qkv_opreact = register_module("qkv_opreact", Linear(E, 2 * qk + 2 * vd, cfg.use_bias, options));
    ifgate_preact = register_module("ifgate_preact", Linear(E, 2 * NH, /*bias=*/true, options));
  } else {
    q = register_module("q", Linear(E, qk, cfg.use_bias, options));
    k = register_module("k", Linear(E, qk, cfg.use_bias, options));
    v = register_module("v", Linear(E, vd, cfg.use_bias, options));
    ogate_preact = register_module("ogate_preact", Linear(E, vd, cfg.use_bias, options));
    igate_preact = register_module("igate_preact", Linear(E, NH, /*bias=*/true, options));
    fgate_preact = register_module("fgate_preact", Linear(E, NH, /*bias=*/true, options));
  }
  multihead_norm = register_module(
      "multihead_norm", MultiHeadLayerNorm(NH, vd / NH, cfg.norm_eps, /*use_weight=*/true, cfg.use_bias,
                                           cfg.norm_reduction_force_float32, options));
  out_proj = register_module("out_proj", Linear(vd, E, cfg.use_bias, options));
}

void mLSTMLayerImpl::reset_parameters() {
  for (const auto& l : {q, k, v, ogate_preact, igate_preact, fgate_preact, qkv_opreact, ifgate_preact, out_proj})
    if (!l.is_empty()) l.ptr()->reset_parameters();
  multihead_norm->reset_parameters();
}

std::tuple<torch::Tensor, mLSTMState> mLSTMLayerImpl::forward(const torch::Tensor& x, const mLSTMState& state,
                                                              const ForwardOptions& options) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == config.embedding_dim, "xLSTM-Large mLSTMLayer: x must be (B, S, ",
              config.embedding_dim, "), got ", x.sizes());
  const int64_t NH = config.num_heads, qk = config.qk_dim(), vd = config.v_dim();
  torch::Tensor qx, kx, vx, o, i_pre, f_pre;
  if (config.weight_mode == "fused") {
    const auto qkvo = qkv_opreact->forward(x);
    qx = qkvo.narrow(-1, 0, qk);
    kx = qkvo.narrow(-1, qk, qk);
    vx = qkvo.narrow(-1, 2 * qk, vd);
    o = qkvo.narrow(-1, 2 * qk + vd, vd);
    const auto if_pre = soft_cap(ifgate_preact->forward(x), config.gate_soft_cap);
    i_pre = if_pre.narrow(-1, 0, NH);
    f_pre = if_pre.narrow(-1, NH, NH);
  } else {
    qx = q->forward(x);
    kx = k->forward(x);
    vx = v->forward(x);
    o = ogate_preact->forward(x);
    i_pre = soft_cap(igate_preact->forward(x), config.gate_soft_cap);
    f_pre = soft_cap(fgate_preact->forward(x), config.gate_soft_cap);
  }
  auto [h, next] = mlstm_backend(backend, options.mode.value_or(backend.mode), heads(qx, NH), heads(kx, NH),
                                 heads(vx, NH), gate(i_pre, options.mask, kClosedInputGate),
                                 gate(f_pre, options.mask, kOpenForgetGate), state);
  const auto h_norm = multihead_norm->forward(h.transpose(1, 2));  // (B, S, NH, DHV) -> (B, S, v_dim)
  return {out_proj->forward(torch::sigmoid(o) * h_norm), next};
}

std::tuple<torch::Tensor, mLSTMState> mLSTMLayerImpl::step(const torch::Tensor& x, const mLSTMState& state) {
  return forward(x, state, step_options(x, "mLSTMLayer"));
}

}  // namespace xlstm::large
