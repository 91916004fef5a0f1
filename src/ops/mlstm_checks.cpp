// Argument checks of the mLSTM ops (see mlstm_checks.h).
#include "ops/mlstm_checks.h"

#include <cmath>

#include "xlstm/mlstm/backends.h"

namespace xlstm::ops::detail {
namespace {

// float32, or float64 when the inputs are float64 (gradient checks on the ATen path).
torch::ScalarType state_dtype(const torch::Tensor& q) {
  return q.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

void check_like(const char* op, const char* name, const torch::Tensor& t, const torch::Tensor& q,
                torch::ScalarType dtype) {
  TORCH_CHECK(t.defined(), op, ": ", name, " is undefined");
  TORCH_CHECK(t.device() == q.device(), op, ": ", name, " is on ", t.device(), " but q on ", q.device());
  TORCH_CHECK(t.scalar_type() == dtype, op, ": ", name, " must be ", dtype, ", got ", t.scalar_type());
}

void check_shape(const char* op, const char* name, const torch::Tensor& t, torch::IntArrayRef shape) {
  TORCH_CHECK(t.sizes() == shape, op, ": ", name, " must have shape ", shape, ", got ", t.sizes());
}

void check_common(const char* op, const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                  const torch::Tensor& igate, const torch::Tensor& fgate, double eps) {
  TORCH_CHECK(q.defined(), op, ": q is undefined");
  const auto dt = q.scalar_type();
  TORCH_CHECK(dt == torch::kFloat32 || dt == torch::kFloat16 || dt == torch::kBFloat16 || dt == torch::kFloat64, op,
              ": q must be float32, float16 or bfloat16 (float64 on the ATen path), got ", dt);
  check_like(op, "k", k, q, dt);
  check_like(op, "v", v, q, dt);
  check_like(op, "igate", igate, q, state_dtype(q));
  check_like(op, "fgate", fgate, q, state_dtype(q));
  TORCH_CHECK(std::isfinite(eps) && eps >= 0, op, ": eps must be finite and >= 0, got ", eps);
}

// names: how the op calls C, n and m.
void check_state_dtypes(const char* op, const mLSTMState& state, const torch::Tensor& q, const char* c_name,
                        const char* n_name, const char* m_name) {
  if (!state.defined()) return;
  check_like(op, c_name, state.C, q, state_dtype(q));
  check_like(op, n_name, state.n, q, state_dtype(q));
  check_like(op, m_name, state.m, q, state_dtype(q));
}

}  // namespace

mLSTMState optional_state(const char* op, const OptTensor& c0, const OptTensor& n0, const OptTensor& m0) {
  const bool c = c0.has_value() && c0->defined(), n = n0.has_value() && n0->defined(),
             m = m0.has_value() && m0->defined();
  TORCH_CHECK(c == n && n == m, op, ": give all of c0, n0, m0 or none (got c0 ", c ? "yes" : "no", ", n0 ",
              n ? "yes" : "no", ", m0 ", m ? "yes" : "no", ")");
  if (!c) return {};
  return {*c0, *n0, *m0};
}

void check_chunkwise_fw_args(const char* op, const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const torch::Tensor& igate, const torch::Tensor& fgate, const mLSTMState& state,
                             int64_t chunk_size, double eps) {
  check_common(op, q, k, v, igate, fgate, eps);
  check_state_dtypes(op, state, q, "c0", "n0", "m0");
  check_mlstm_inputs(q, k, v, igate, fgate, state);
  TORCH_CHECK(chunk_size >= 1, op, ": chunk_size must be >= 1, got ", chunk_size);
}

void check_chunkwise_bw_args(const char* op, const torch::Tensor& dh, const OptTensor& dc_last,
                             const OptTensor& dn_last, const OptTensor& dm_last, const torch::Tensor& q,
                             const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& igate,
                             const torch::Tensor& fgate, const mLSTMState& state,
                             const torch::Tensor& n_out, const torch::Tensor& m_out, int64_t chunk_size, double eps) {
  check_chunkwise_fw_args(op, q, k, v, igate, fgate, state, chunk_size, eps);
  const int64_t B = q.size(0), NH = q.size(1), S = q.size(2), DK = q.size(3), DV = v.size(3);
  check_like(op, "dh", dh, q, q.scalar_type());
  check_shape(op, "dh", dh, {B, NH, S, DV});
  check_like(op, "n_out", n_out, q, state_dtype(q));
  check_shape(op, "n_out", n_out, {B, NH, S});
  check_like(op, "m_out", m_out, q, state_dtype(q));
  check_shape(op, "m_out", m_out, {B, NH, S});
  if (dc_last && dc_last->defined()) {
    check_like(op, "dc_last", *dc_last, q, state_dtype(q));
    check_shape(op, "dc_last", *dc_last, {B, NH, DK, DV});
  }
  if (dn_last && dn_last->defined()) {
    check_like(op, "dn_last", *dn_last, q, state_dtype(q));
    check_shape(op, "dn_last", *dn_last, {B, NH, DK});
  }
  if (dm_last && dm_last->defined()) {
    check_like(op, "dm_last", *dm_last, q, state_dtype(q));
    check_shape(op, "dm_last", *dm_last, {B, NH, 1});
  }
}

mLSTMState checked_fw_state(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            const torch::Tensor& igate, const torch::Tensor& fgate, const OptTensor& c0,
                            const OptTensor& n0, const OptTensor& m0, int64_t chunk_size, double eps) {
  const char* op = "xlstm::mlstm_chunkwise_fw";
  mLSTMState state = optional_state(op, c0, n0, m0);
  check_chunkwise_fw_args(op, q, k, v, igate, fgate, state, chunk_size, eps);
  return state;
}

mLSTMState checked_bw_state(const torch::Tensor& dh, const OptTensor& dc_last, const OptTensor& dn_last,
                            const OptTensor& dm_last, const torch::Tensor& q, const torch::Tensor& k,
                            const torch::Tensor& v, const torch::Tensor& igate, const torch::Tensor& fgate,
                            const OptTensor& c0, const OptTensor& n0, const OptTensor& m0, const torch::Tensor& n_out,
                            const torch::Tensor& m_out, int64_t chunk_size, double eps) {
  const char* op = "xlstm::mlstm_chunkwise_bw";
  mLSTMState state = optional_state(op, c0, n0, m0);
  check_chunkwise_bw_args(op, dh, dc_last, dn_last, dm_last, q, k, v, igate, fgate, state, n_out, m_out, chunk_size,
                          eps);
  return state;
}

bool check_chunk_cache(const char* op, const torch::Tensor& q, const OptTensor& chunk_states, const OptTensor& chunk_n,
                       const OptTensor& chunk_m) {
  const auto present = [](const OptTensor& t) { return t.has_value() && t->defined() && t->numel() > 0; };
  const bool s = present(chunk_states), n = present(chunk_n), m = present(chunk_m);
  TORCH_CHECK(s == n && n == m, op, ": give all of chunk_states, chunk_n, chunk_m or none (got chunk_states ",
              s ? "yes" : "no", ", chunk_n ", n ? "yes" : "no", ", chunk_m ", m ? "yes" : "no", ")");
  if (s)
    for (const auto* t : {&chunk_states, &chunk_n, &chunk_m})
      TORCH_CHECK((*t)->device() == q.device(), op, ": the chunk cache is on ", (*t)->device(), " but q on ",
                  q.device());
  return s;
}

void check_step_args(const char* op, const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const torch::Tensor& igate, const torch::Tensor& fgate, const torch::Tensor& c,
                     const torch::Tensor& n, const torch::Tensor& m, double eps) {
  check_common(op, q, k, v, igate, fgate, eps);
  TORCH_CHECK(q.dim() == 3 && v.dim() == 3, op, ": q, k must be (B, NH, DHQK) and v (B, NH, DHV), got q ",
              q.sizes(), ", v ", v.sizes());
  const mLSTMState state{c, n, m};
  check_state_dtypes(op, state, q, "c", "n", "m");
  check_shape(op, "igate", igate, {q.size(0), q.size(1)});
  check_mlstm_inputs(q.unsqueeze(2), k.unsqueeze(2), v.unsqueeze(2), igate.unsqueeze(2), fgate.unsqueeze(2), state);
}

}  // namespace xlstm::ops::detail
