// Autograd kernel of xlstm::mlstm_chunkwise_fw: runs the forward op below the autograd keys (the cached
// variant when a gradient is needed), keeps the inputs, n_out, m_out and the chunk-state cache, and
// answers backward() with one xlstm::mlstm_chunkwise_bw call.
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/library.h>
#include <torch/torch.h>

#include "ops/tensor_args.h"
#include "xlstm/ops.h"

namespace xlstm::ops::detail {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class ChunkwiseFunction : public torch::autograd::Function<ChunkwiseFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, const torch::Tensor& igate, const torch::Tensor& fgate,
                               const OptTensor& c0, const OptTensor& n0, const OptTensor& m0, int64_t chunk_size,
                               double eps, bool needs_grad) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    const torch::Tensor none;
    torch::Tensor h, n_out, m_out, c_last, n_last, m_last, chunk_states = none, chunk_n = none, chunk_m = none;
    if (needs_grad)
      std::tie(h, n_out, m_out, c_last, n_last, m_last, chunk_states, chunk_n, chunk_m) =
          ops::mlstm_chunkwise_fw_cached(q, k, v, igate, fgate, c0, n0, m0, chunk_size, eps);
    else
      std::tie(h, n_out, m_out, c_last, n_last, m_last) =
          ops::mlstm_chunkwise_fw(q, k, v, igate, fgate, c0, n0, m0, chunk_size, eps);
    ctx->save_for_backward({q, k, v, igate, fgate, c0.value_or(none), n0.value_or(none), m0.value_or(none), n_out,
                            m_out, chunk_states, chunk_n, chunk_m});
    ctx->saved_data["h_shape"] = h.sizes().vec();  // for a missing dh
    ctx->saved_data["chunk_size"] = chunk_size;
    ctx->saved_data["eps"] = eps;
    ctx->mark_non_differentiable({n_out, m_out});
    return {h, n_out, m_out, c_last, n_last, m_last};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const auto dh = grads[0].defined() ? grads[0] : torch::zeros(ctx->saved_data["h_shape"].toIntVector(), s[0].options());
    auto [dq, dk, dv, di, df, dc0, dn0, dm0] =
        ops::mlstm_chunkwise_bw(dh, opt(grads[3]), opt(grads[4]), opt(grads[5]), s[0], s[1], s[2], s[3], s[4],
                                opt(s[5]), opt(s[6]), opt(s[7]), s[8], s[9], ctx->saved_data["chunk_size"].toInt(),
                                ctx->saved_data["eps"].toDouble(), opt(s[10]), opt(s[11]), opt(s[12]));
    return {dq, dk, dv, di, df, dc0, dn0, dm0, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor>
chunkwise_fw_autograd(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                      const torch::Tensor& igate, const torch::Tensor& fgate, const OptTensor& c0,
                      const OptTensor& n0, const OptTensor& m0, int64_t chunk_size, double eps) {
  const bool needs_grad = torch::autograd::compute_requires_grad(q, k, v, igate, fgate, c0, n0, m0);
  auto out = ChunkwiseFunction::apply(q, k, v, igate, fgate, c0, n0, m0, chunk_size, eps, needs_grad);
  return {out[0], out[1], out[2], out[3], out[4], out[5]};
}

}  // namespace
}  // namespace xlstm::ops::detail

TORCH_LIBRARY_IMPL(xlstm, Autograd, m) { m.impl("mlstm_chunkwise_fw", &xlstm::ops::detail::chunkwise_fw_autograd); }
