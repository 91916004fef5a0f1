// C++ entry points of the `xlstm::` ops (include/xlstm/ops.h): typed dispatcher calls, and the
// mLSTMState-shaped wrappers the model layers use.
#include "xlstm/ops.h"

#include <ATen/core/dispatch/Dispatcher.h>

#include <limits>

#include "ops/tensor_args.h"

namespace xlstm::ops {
namespace {

template <class Signature>
c10::TypedOperatorHandle<Signature> op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Signature>();
}

using T = torch::Tensor;
using O = OptTensor;

}  // namespace

std::tuple<T, T, T, T, T, T> mlstm_chunkwise_fw(const T& q, const T& k, const T& v, const T& igate, const T& fgate,
                                                const O& c0, const O& n0, const O& m0, int64_t chunk_size,
                                                double eps) {
  static const auto handle =
      op<std::tuple<T, T, T, T, T, T>(const T&, const T&, const T&, const T&, const T&, const O&, const O&, const O&,
                                      int64_t, double)>("xlstm::mlstm_chunkwise_fw");
  return handle.call(q, k, v, igate, fgate, c0, n0, m0, chunk_size, eps);
}

MlstmFwCachedOut mlstm_chunkwise_fw_cached(const T& q, const T& k, const T& v, const T& igate, const T& fgate,
                                           const O& c0, const O& n0, const O& m0, int64_t chunk_size, double eps) {
  static const auto handle = op<MlstmFwCachedOut(const T&, const T&, const T&, const T&, const T&, const O&,
                                                 const O&, const O&, int64_t, double)>("xlstm::mlstm_chunkwise_fw_cached");
  return handle.call(q, k, v, igate, fgate, c0, n0, m0, chunk_size, eps);
}

std::tuple<T, T, T, T, T, T, T, T> mlstm_chunkwise_bw(const T& dh, const O& dc_last, const O& dn_last,
                                                      const O& dm_last, const T& q, const T& k, const T& v,
                                                      const T& igate, const T& fgate, const O& c0, const O& n0,
                                                      const O& m0, const T& n_out, const T& m_out,
                                                      int64_t chunk_size, double eps, const O& chunk_states,
                                                      const O& chunk_n, const O& chunk_m) {
  static const auto handle =
      op<std::tuple<T, T, T, T, T, T, T, T>(const T&, const O&, const O&, const O&, const T&, const T&, const T&,
                                            const T&, const T&, const O&, const O&, const O&, const T&, const T&,
                                            int64_t, double, const O&, const O&, const O&)>("xlstm::mlstm_chunkwise_bw");
  return handle.call(dh, dc_last, dn_last, dm_last, q, k, v, igate, fgate, c0, n0, m0, n_out, m_out, chunk_size,
                     eps, chunk_states, chunk_n, chunk_m);
}

std::tuple<T, T, T, T> mlstm_step(const T& q, const T& k, const T& v, const T& igate, const T& fgate, const T& c,
                                  const T& n, const T& m, double eps) {
  static const auto handle = op<std::tuple<T, T, T, T>(const T&, const T&, const T&, const T&, const T&, const T&,
                                                       const T&, const T&, double)>("xlstm::mlstm_step");
  return handle.call(q, k, v, igate, fgate, c, n, m, eps);
}

T mlstm_step_(const T& q, const T& k, const T& v, const T& igate, const T& fgate, T& c, T& n, T& m, double eps) {
  static const auto handle =
      op<T(const T&, const T&, const T&, const T&, const T&, T&, T&, T&, double)>("xlstm::mlstm_step_");
  return handle.call(q, k, v, igate, fgate, c, n, m, eps);
}

std::tuple<T, mLSTMState> mlstm_chunkwise(const T& q, const T& k, const T& v, const T& igate, const T& fgate,
                                          const mLSTMState& state, int64_t chunk_size, double eps) {
  const auto dt = q.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  auto cast = [&](const T& t) { return O(t.to(dt)); };
  const bool s = state.defined();
  auto [h, n_out, m_out, c_last, n_last, m_last] =
      mlstm_chunkwise_fw(q, k, v, igate.to(dt), fgate.to(dt), s ? cast(state.C) : std::nullopt,
                         s ? cast(state.n) : std::nullopt, s ? cast(state.m) : std::nullopt, chunk_size, eps);
  return {h, mLSTMState{c_last, n_last, m_last}};
}

std::optional<std::tuple<T, mLSTMState>> mlstm_on_device(const T& q, const T& k, const T& v, const T& igate,
                                                         const T& fgate, const mLSTMState& state, int64_t chunk_size,
                                                         double eps, bool step) {
  if (!XLSTM_WITH_CUDA || !q.is_cuda()) return std::nullopt;
  const bool grad = torch::GradMode::is_enabled() &&
                    (q.requires_grad() || k.requires_grad() || v.requires_grad() || igate.requires_grad() ||
                     fgate.requires_grad() || (state.defined() && state.C.requires_grad()));
  if (!step || grad) return ops::mlstm_chunkwise(q, k, v, igate, fgate, state, chunk_size, eps);
  auto [h, next] =
      ops::mlstm_step(q.squeeze(2), k.squeeze(2), v.squeeze(2), igate.squeeze(2), fgate.squeeze(2), state, eps);
  return std::make_tuple(h.unsqueeze(2), next);
}

std::tuple<T, mLSTMState> mlstm_step(const T& q, const T& k, const T& v, const T& igate, const T& fgate,
                                     const mLSTMState& state, double eps) {
  const auto dt = q.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  const int64_t B = q.size(0), NH = q.size(1), DK = q.size(2), DV = v.size(-1);
  const auto opts = q.options().dtype(dt);
  const mLSTMState st = state.defined()
                            ? mLSTMState{state.C.to(dt), state.n.to(dt), state.m.to(dt)}
                            : mLSTMState{torch::zeros({B, NH, DK, DV}, opts), torch::zeros({B, NH, DK}, opts),
                                         torch::full({B, NH, 1}, -std::numeric_limits<double>::infinity(), opts)};
  auto [h, c, n, m] = mlstm_step(q, k, v, igate.to(dt), fgate.to(dt), st.C, st.n, st.m, eps);
  return {h, mLSTMState{c, n, m}};
}

}  // namespace xlstm::ops

namespace xlstm::ops {

std::tuple<T, T, T, T> slstm_fw(const T& wx, const T& R, const T& b, const O& s0, bool with_cache) {
  static const auto handle =
      op<std::tuple<T, T, T, T>(const T&, const T&, const T&, const O&, bool)>("xlstm::slstm_fw");
  return handle.call(wx, R, b, s0, with_cache);
}

std::tuple<T, T, T, T> slstm_bw(const T& dy, const O& dstate_last, const T& wx, const T& R, const T& b, const O& s0,
                                const T& y, const T& gates, const T& states) {
  static const auto handle =
      op<std::tuple<T, T, T, T>(const T&, const O&, const T&, const T&, const T&, const O&, const T&, const T&,
                                const T&)>("xlstm::slstm_bw");
  return handle.call(dy, dstate_last, wx, R, b, s0, y, gates, states);
}

std::tuple<T, T> slstm(const T& wx, const T& R, const T& b, const T& s0) {
  auto [y, state_last, gates, states] = slstm_fw(wx, R, b, s0.defined() ? O(s0) : std::nullopt, false);
  return {y, state_last};
}

std::tuple<T, T, T> mlstm_norm_skip_gate(const T& h, const T& c, const T& z, const T& norm_weight, const T& skip,
                                         double eps) {
  static const auto handle = op<std::tuple<T, T, T>(const T&, const T&, const T&, const T&, const T&, double)>(
      "xlstm::mlstm_norm_skip_gate");
  return handle.call(h, c, z, norm_weight, skip, eps);
}

std::tuple<T, T, T, T, T> mlstm_norm_skip_gate_bw(const T& dy, const T& h, const T& c, const T& z,
                                                  const T& norm_weight, const T& skip, const T& mean,
                                                  const T& rstd) {
  static const auto handle =
      op<std::tuple<T, T, T, T, T>(const T&, const T&, const T&, const T&, const T&, const T&, const T&, const T&)>(
          "xlstm::mlstm_norm_skip_gate_bw");
  return handle.call(dy, h, c, z, norm_weight, skip, mean, rstd);
}

std::optional<T> norm_skip_gate_on_device(const T& h, const T& c, const T& z, const T& norm_weight, const T& skip,
                                          double eps) {
  if (!XLSTM_WITH_CUDA || !h.is_cuda() || !norm_weight.defined() || !skip.defined()) return std::nullopt;
  const auto dt = h.scalar_type();
  if (!at::isFloatingType(dt) || c.scalar_type() != dt || z.scalar_type() != dt) return std::nullopt;
  return std::get<0>(mlstm_norm_skip_gate(h, c, z, norm_weight, skip, eps));
}

std::tuple<T, T, T, T> mlstm_conv_qkv(const T& x, const T& conv_weight, const O& conv_bias, const T& wq, const T& wk,
                                      const T& wv, const O& bq, const O& bk, const O& bv) {
  static const auto handle =
      op<std::tuple<T, T, T, T>(const T&, const T&, const O&, const T&, const T&, const T&, const O&, const O&,
                                const O&)>("xlstm::mlstm_conv_qkv");
  return handle.call(x, conv_weight, conv_bias, wq, wk, wv, bq, bk, bv);
}

std::tuple<T, T, T, T, T, T, T, T, T> mlstm_conv_qkv_bw(const O& dc, const T& dq, const T& dk, const T& dv,
                                                        const T& x, const T& conv_weight, const O& conv_bias,
                                                        const T& wq, const T& wk, const T& wv, const O& bq,
                                                        const O& bk, const O& bv) {
  static const auto handle =
      op<std::tuple<T, T, T, T, T, T, T, T, T>(const O&, const T&, const T&, const T&, const T&, const T&, const O&,
                                               const T&, const T&, const T&, const O&, const O&, const O&)>(
          "xlstm::mlstm_conv_qkv_bw");
  return handle.call(dc, dq, dk, dv, x, conv_weight, conv_bias, wq, wk, wv, bq, bk, bv);
}

std::optional<std::tuple<T, T, T, T>> conv_qkv_on_device(const T& x, const T& conv_weight, const T& conv_bias,
                                                         const T& wq, const T& wk, const T& wv, const T& bq,
                                                         const T& bk, const T& bv) {
  if (!XLSTM_WITH_CUDA || !x.is_cuda() || !at::isFloatingType(x.scalar_type())) return std::nullopt;
  using detail::opt;
  return mlstm_conv_qkv(x, conv_weight, opt(conv_bias), wq, wk, wv, opt(bq), opt(bk), opt(bv));
}

std::tuple<T, T, T> cross_entropy_rows(const T& logits, const T& targets, int64_t ignore_index, bool grad_into_logits) {
  static const auto handle =
      op<std::tuple<T, T, T>(const T&, const T&, int64_t, bool)>("xlstm::cross_entropy_rows");
  return handle.call(logits, targets, ignore_index, grad_into_logits);
}

T cross_entropy_rows_bw(const T& dloss, const T& logits, const T& targets, const T& lse, int64_t ignore_index) {
  static const auto handle =
      op<T(const T&, const T&, const T&, const T&, int64_t)>("xlstm::cross_entropy_rows_bw");
  return handle.call(dloss, logits, targets, lse, ignore_index);
}

T& cross_entropy_rows_bw_(T& logits, const T& dloss, const T& targets, const T& lse, int64_t ignore_index) {
  static const auto handle =
      op<T&(T&, const T&, const T&, const T&, int64_t)>("xlstm::cross_entropy_rows_bw_");
  return handle.call(logits, dloss, targets, lse, ignore_index);
}

std::tuple<T, T, T> layer_norm(const T& x, const O& weight, const O& bias, double weight_offset, double eps,
                               std::optional<torch::ScalarType> out_dtype) {
  static const auto handle =
      op<std::tuple<T, T, T>(const T&, const O&, const O&, double, double, std::optional<torch::ScalarType>)>(
          "xlstm::layer_norm");
  return handle.call(x, weight, bias, weight_offset, eps, out_dtype);
}

std::tuple<T, T, T> layer_norm_bw(const T& dy, const T& x, const O& weight, const O& bias, double weight_offset,
                                  const T& mean, const T& rstd) {
  static const auto handle =
      op<std::tuple<T, T, T>(const T&, const T&, const O&, const O&, double, const T&, const T&)>(
          "xlstm::layer_norm_bw");
  return handle.call(dy, x, weight, bias, weight_offset, mean, rstd);
}

std::optional<T> layer_norm_on_device(const T& x, const T& weight, const T& bias, double weight_offset, double eps,
                                      torch::ScalarType out_dtype) {
  if (!XLSTM_WITH_CUDA || !x.is_cuda() || !at::isFloatingType(x.scalar_type())) return std::nullopt;
  return std::get<0>(layer_norm(x, detail::opt(weight), detail::opt(bias), weight_offset, eps, out_dtype));
}

std::optional<std::tuple<T, T>> cross_entropy_on_device(const T& logits, const T& targets, int64_t ignore_index,
                                                        bool grad_into_logits) {
  if (!XLSTM_WITH_CUDA || !logits.is_cuda() || !at::isFloatingType(logits.scalar_type())) return std::nullopt;
  auto [loss, lse, predicted] = cross_entropy_rows(logits, targets, ignore_index, grad_into_logits);
  return std::tuple<T, T>{loss, predicted};
}

}  // namespace xlstm::ops
