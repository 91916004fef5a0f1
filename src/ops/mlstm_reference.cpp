// The ATen implementations of the mLSTM ops (see mlstm_reference.h): the formulations of
// include/xlstm/mlstm/backends.h, and autograd through them for the backward.
#include "ops/mlstm_reference.h"

#include <c10/core/impl/LocalDispatchKeySet.h>

#include "ops/mlstm_checks.h"
#include "xlstm/mlstm/backends.h"

namespace xlstm::ops::detail {
namespace {

bool given(const OptTensor& t) { return t.has_value() && t->defined(); }

}  // namespace

FwOut aten_chunkwise_fw(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& igate, const torch::Tensor& fgate, const mLSTMState& state,
                        int64_t chunk_size, double eps) {
  mLSTMForwardStats stats;
  auto [h, last] = xlstm::mlstm_chunkwise(q, k, v, igate, fgate, state, chunk_size, eps, &stats);
  return {h, stats.normalizer, stats.stabilizer, last.C, last.n, last.m};
}

FwOut reference_chunkwise_fw(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const torch::Tensor& igate, const torch::Tensor& fgate, const OptTensor& c0,
                             const OptTensor& n0, const OptTensor& m0, int64_t chunk_size, double eps) {
  const mLSTMState state = checked_fw_state(q, k, v, igate, fgate, c0, n0, m0, chunk_size, eps);
  return aten_chunkwise_fw(q, k, v, igate, fgate, state, chunk_size, eps);
}

FwCachedOut without_cache(const FwOut& out) {
  const auto empty = torch::empty({0}, std::get<0>(out).options().dtype(torch::kFloat32));
  return std::tuple_cat(out, std::make_tuple(empty, empty, empty));
}

FwCachedOut reference_chunkwise_fw_cached(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                          const torch::Tensor& igate, const torch::Tensor& fgate, const OptTensor& c0,
                                          const OptTensor& n0, const OptTensor& m0, int64_t chunk_size, double eps) {
  const mLSTMState state = checked_fw_state(q, k, v, igate, fgate, c0, n0, m0, chunk_size, eps);
  return without_cache(aten_chunkwise_fw(q, k, v, igate, fgate, state, chunk_size, eps));
}

BwOut aten_chunkwise_bw(const torch::Tensor& dh, const OptTensor& dc_last, const OptTensor& dn_last,
                        const OptTensor& dm_last, const torch::Tensor& q, const torch::Tensor& k,
                        const torch::Tensor& v, const torch::Tensor& igate, const torch::Tensor& fgate,
                        const mLSTMState& state, int64_t chunk_size, double eps) {
  // This runs as an op kernel, below the autograd dispatch keys: turn autograd back on for the graph.
  const auto tls = c10::impl::tls_local_dispatch_key_set();
  c10::impl::ForceDispatchKeyGuard keys(tls.included_, tls.excluded_ - c10::autograd_dispatch_keyset_with_ADInplaceOrView);
  torch::AutoGradMode grad_mode(true);

  std::vector<torch::Tensor> inputs;
  for (const auto& t : {q, k, v, igate, fgate}) inputs.push_back(t.detach().requires_grad_(true));
  mLSTMState st;
  if (state.defined()) {
    st = {state.C.detach().requires_grad_(true), state.n.detach().requires_grad_(true),
          state.m.detach().requires_grad_(true)};
    inputs.insert(inputs.end(), {st.C, st.n, st.m});
  }
  auto [h_ref, last] = xlstm::mlstm_chunkwise(inputs[0], inputs[1], inputs[2], inputs[3], inputs[4], st, chunk_size, eps);
  std::vector<torch::Tensor> outputs{h_ref}, grads{dh};
  const std::pair<const OptTensor&, torch::Tensor> last_grads[] = {{dc_last, last.C}, {dn_last, last.n}, {dm_last, last.m}};
  for (const auto& [grad, out] : last_grads)
    if (given(grad)) {
      outputs.push_back(out);
      grads.push_back(*grad);
    }
  auto g = torch::autograd::grad(outputs, inputs, grads, /*retain_graph=*/false, /*create_graph=*/false,
                                 /*allow_unused=*/true);
  for (size_t i = 0; i < g.size(); ++i)
    if (!g[i].defined()) g[i] = torch::zeros_like(inputs[i]);
  if (!state.defined()) g.resize(8);
  return {g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]};
}

BwOut reference_chunkwise_bw(const torch::Tensor& dh, const OptTensor& dc_last, const OptTensor& dn_last,
                             const OptTensor& dm_last, const torch::Tensor& q, const torch::Tensor& k,
                             const torch::Tensor& v, const torch::Tensor& igate, const torch::Tensor& fgate,
                             const OptTensor& c0, const OptTensor& n0, const OptTensor& m0,
                             const torch::Tensor& n_out, const torch::Tensor& m_out, int64_t chunk_size, double eps,
                             const OptTensor& chunk_states, const OptTensor& chunk_n, const OptTensor& chunk_m) {
  const mLSTMState state = checked_bw_state(dh, dc_last, dn_last, dm_last, q, k, v, igate, fgate, c0, n0, m0, n_out,
                                            m_out, chunk_size, eps);
  check_chunk_cache("xlstm::mlstm_chunkwise_bw", q, chunk_states, chunk_n, chunk_m);
  return aten_chunkwise_bw(dh, dc_last, dn_last, dm_last, q, k, v, igate, fgate, state, chunk_size, eps);
}

StepOut aten_step(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& igate,
                  const torch::Tensor& fgate, const torch::Tensor& c, const torch::Tensor& n, const torch::Tensor& m,
                  double eps) {
  auto [h, state] = xlstm::mlstm_step(q, k, v, igate, fgate, {c, n, m}, eps);
  return {h, state.C, state.n, state.m};
}

torch::Tensor aten_step_(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                         const torch::Tensor& igate, const torch::Tensor& fgate, torch::Tensor& c, torch::Tensor& n,
                         torch::Tensor& m, double eps) {
  auto [h, c_new, n_new, m_new] = aten_step(q, k, v, igate, fgate, c, n, m, eps);
  c.copy_(c_new);
  n.copy_(n_new);
  m.copy_(m_new);
  return h;
}

StepOut reference_step(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& igate, const torch::Tensor& fgate, const torch::Tensor& c,
                       const torch::Tensor& n, const torch::Tensor& m, double eps) {
  check_step_args("xlstm::mlstm_step", q, k, v, igate, fgate, c, n, m, eps);
  return aten_step(q, k, v, igate, fgate, c, n, m, eps);
}

torch::Tensor reference_step_(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& igate, const torch::Tensor& fgate, torch::Tensor& c,
                              torch::Tensor& n, torch::Tensor& m, double eps) {
  check_step_args("xlstm::mlstm_step_", q, k, v, igate, fgate, c, n, m, eps);
  return aten_step_(q, k, v, igate, fgate, c, n, m, eps);
}

}  // namespace xlstm::ops::detail
