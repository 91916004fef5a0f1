// mLSTMCell: gate projections, the cell recurrence through the selected backend, per-head norm.
#include "xlstm/mlstm/cell.h"

#include "xlstm/components/init.h"
#include "xlstm/mlstm/backends.h"
#include "xlstm/ops.h"

namespace xlstm {

mLSTMBackend select_mlstm_backend(const std::string& backend, int64_t seq_len, int64_t context_length,
                                  int64_t chunk_size) {
  if (backend == "parallel") return mLSTMBackend::parallel;
  if (backend == "chunkwise") return mLSTMBackend::chunkwise;
  if (backend == "recurrent") return mLSTMBackend::recurrent;
  TORCH_CHECK(backend == "auto", "mLSTM backend: unknown '", backend, "' (auto, parallel, chunkwise, recurrent)");
  if (seq_len == 1) return mLSTMBackend::step;
  return seq_len <= std::max(context_length, chunk_size) ? mLSTMBackend::parallel : mLSTMBackend::chunkwise;
}

std::tuple<torch::Tensor, mLSTMState> run_mlstm_backend(mLSTMBackend backend, const torch::Tensor& q,
                                                        const torch::Tensor& k, const torch::Tensor& v,
                                                        const torch::Tensor& igate, const torch::Tensor& fgate,
                                                        const mLSTMState& state, int64_t chunk_size, double eps) {
  // On CUDA the custom ops (kernels/mlstm/) compute the same function.
  if (auto out = ops::mlstm_on_device(q, k, v, igate, fgate, state, chunk_size, eps, backend == mLSTMBackend::step))
    return *out;
  switch (backend) {
    case mLSTMBackend::parallel:
      return mlstm_parallel(q, k, v, igate, fgate, state, eps);
    case mLSTMBackend::chunkwise:
      return mlstm_chunkwise(q, k, v, igate, fgate, state, chunk_size, eps);
    case mLSTMBackend::recurrent:
      return mlstm_recurrent(q, k, v, igate, fgate, state, eps);
    case mLSTMBackend::step: {
      TORCH_CHECK(q.size(2) == 1, "mLSTM step backend needs S == 1, got ", q.size(2));
      auto out = mlstm_step(q.squeeze(2), k.squeeze(2), v.squeeze(2), igate.squeeze(2), fgate.squeeze(2), state, eps);
      return {std::get<0>(out).unsqueeze(2), std::get<1>(out)};
    }
  }
  TORCH_CHECK(false, "unreachable mLSTM backend");
}

mLSTMCellImpl::mLSTMCellImpl(const mLSTMLayerConfig& cfg) : config(cfg) {
  const int64_t Di = cfg._inner_embedding_dim, NH = cfg.num_heads;
  TORCH_CHECK(Di > 0 && NH > 0 && Di % NH == 0, "mLSTMCell: num_heads ", NH, " must divide the inner dim ", Di,
              " (did you call post_init()?)");
  igate = register_module("igate", torch::nn::Linear(torch::nn::LinearOptions(3 * Di, NH).bias(true)));
  fgate = register_module("fgate", torch::nn::Linear(torch::nn::LinearOptions(3 * Di, NH).bias(true)));
  outnorm = register_module("outnorm", MultiHeadLayerNorm(Di, /*weight=*/true, /*bias=*/false));
  reset_parameters();
}

void mLSTMCellImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  fgate->weight.zero_();
  bias_linspace_init_(fgate->bias, 3.0, 6.0);
  igate->weight.zero_();
  igate->bias.normal_(0.0, 0.1);
  outnorm->reset_parameters();
}

std::tuple<torch::Tensor, mLSTMState> mLSTMCellImpl::forward(const torch::Tensor& q, const torch::Tensor& k,
                                                             const torch::Tensor& v, const mLSTMState& state) {
  auto [h, next] = recurrence(q, k, v, state);
  return {outnorm->forward(h), next};
}

std::tuple<torch::Tensor, mLSTMState> mLSTMCellImpl::recurrence(const torch::Tensor& q, const torch::Tensor& k,
                                                                const torch::Tensor& v, const mLSTMState& state) {
  const int64_t Di = config._inner_embedding_dim, NH = config.num_heads, DH = Di / NH;
  TORCH_CHECK(q.dim() == 3 && q.size(2) == Di, "mLSTMCell: q must be (B, S, ", Di, "), got ", q.sizes());
  TORCH_CHECK(k.sizes() == q.sizes() && v.sizes() == q.sizes(), "mLSTMCell: q, k, v must have one shape, got ",
              q.sizes(), ", ", k.sizes(), ", ", v.sizes());
  const int64_t B = q.size(0), S = q.size(1);
  // On CUDA, for a fresh sequence, the gate projections and the cell as one differentiable function.
  if (auto out = ops::mlstm_gated_on_device(q, k, v, igate->weight, igate->bias, fgate->weight, fgate->bias, NH,
                                            state, config.chunk_size, kMlstmEps, keep_chunk_states))
    return *out;
  auto gate_input = torch::cat({q, k, v}, -1);
  auto i = igate->forward(gate_input).transpose(1, 2);  // (B, NH, S)
  auto f = fgate->forward(gate_input).transpose(1, 2);
  auto heads = [&](const torch::Tensor& x) { return x.view({B, S, NH, DH}).transpose(1, 2); };
  auto backend = select_mlstm_backend(config.backend, S, config.context_length, config.chunk_size);
  return run_mlstm_backend(backend, heads(q), heads(k), heads(v), i, f, state, config.chunk_size, kMlstmEps);
}

}  // namespace xlstm
