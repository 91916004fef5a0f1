// Registers the `xlstm::` op schemas (documented in include/xlstm/ops.h) and their CPU kernels (the
// ATen reference). The CUDA kernels are registered in {mlstm,slstm}_cuda.cu.cpp, the autograd kernels in
// {mlstm,slstm}_autograd.cpp; mlstm_norm_skip_gate, mlstm_conv_qkv, cross_entropy_rows and layer_norm have
// their CPU and autograd kernels in norm_skip_gate.cpp, conv_qkv.cpp, cross_entropy.cpp and layer_norm.cpp.
#include <torch/library.h>

#include "ops/mlstm_reference.h"
#include "ops/slstm_ops.h"

TORCH_LIBRARY(xlstm, m) {
  m.def(
      "mlstm_chunkwise_fw(Tensor q, Tensor k, Tensor v, Tensor igate, Tensor fgate, Tensor? c0, Tensor? n0, "
      "Tensor? m0, int chunk_size, float eps) -> (Tensor h, Tensor n_out, Tensor m_out, Tensor c_last, "
      "Tensor n_last, Tensor m_last)");
  m.def(
      "mlstm_chunkwise_fw_cached(Tensor q, Tensor k, Tensor v, Tensor igate, Tensor fgate, Tensor? c0, "
      "Tensor? n0, Tensor? m0, int chunk_size, float eps) -> (Tensor h, Tensor n_out, Tensor m_out, "
      "Tensor c_last, Tensor n_last, Tensor m_last, Tensor chunk_states, Tensor chunk_n, Tensor chunk_m)");
  m.def(
      "mlstm_chunkwise_bw(Tensor dh, Tensor? dc_last, Tensor? dn_last, Tensor? dm_last, Tensor q, Tensor k, "
      "Tensor v, Tensor igate, Tensor fgate, Tensor? c0, Tensor? n0, Tensor? m0, Tensor n_out, "
      "Tensor m_out, int chunk_size, float eps, Tensor? chunk_states=None, Tensor? chunk_n=None, "
      "Tensor? chunk_m=None) -> (Tensor dq, Tensor dk, Tensor dv, Tensor digate, Tensor dfgate, Tensor dc0, "
      "Tensor dn0, Tensor dm0)");
  m.def(
      "mlstm_step(Tensor q, Tensor k, Tensor v, Tensor igate, Tensor fgate, Tensor c, Tensor n, Tensor m, "
      "float eps) -> (Tensor h, Tensor c_new, Tensor n_new, Tensor m_new)");
  m.def(
      "mlstm_step_(Tensor q, Tensor k, Tensor v, Tensor igate, Tensor fgate, Tensor(a!) c, Tensor(b!) n, "
      "Tensor(c!) m, float eps) -> Tensor h");
  m.def(
      "slstm_fw(Tensor wx, Tensor R, Tensor b, Tensor? s0, bool with_cache) -> (Tensor y, Tensor state_last, "
      "Tensor gates, Tensor states)");
  m.def(
      "slstm_bw(Tensor dy, Tensor? dstate_last, Tensor wx, Tensor R, Tensor b, Tensor? s0, Tensor y, "
      "Tensor gates, Tensor states) -> (Tensor dwx, Tensor dR, Tensor db, Tensor ds0)");
  m.def(
      "mlstm_norm_skip_gate(Tensor h, Tensor c, Tensor z, Tensor norm_weight, Tensor skip, float eps) -> "
      "(Tensor y, Tensor mean, Tensor rstd)");
  m.def(
      "mlstm_norm_skip_gate_bw(Tensor dy, Tensor h, Tensor c, Tensor z, Tensor norm_weight, Tensor skip, "
      "Tensor mean, Tensor rstd) -> (Tensor dh, Tensor dc, Tensor dz, Tensor dnorm_weight, Tensor dskip)");
  m.def(
      "mlstm_conv_qkv(Tensor x, Tensor conv_weight, Tensor? conv_bias, Tensor wq, Tensor wk, Tensor wv, Tensor? bq, "
      "Tensor? bk, Tensor? bv) -> (Tensor c, Tensor q, Tensor k, Tensor v)");
  m.def(
      "mlstm_conv_qkv_bw(Tensor? dc, Tensor dq, Tensor dk, Tensor dv, Tensor x, Tensor conv_weight, "
      "Tensor? conv_bias, Tensor wq, Tensor wk, Tensor wv, Tensor? bq, Tensor? bk, Tensor? bv) -> (Tensor dx, "
      "Tensor dconv_weight, Tensor dconv_bias, Tensor dwq, Tensor dwk, Tensor dwv, Tensor dbq, Tensor dbk, "
      "Tensor dbv)");
  m.def(
      "layer_norm(Tensor x, Tensor? weight, Tensor? bias, float weight_offset, float eps, ScalarType? out_dtype=None) "
      "-> (Tensor y, Tensor mean, Tensor rstd)");
  m.def(
      "layer_norm_bw(Tensor dy, Tensor x, Tensor? weight, Tensor? bias, float weight_offset, Tensor mean, "
      "Tensor rstd) -> (Tensor dx, Tensor dweight, Tensor dbias)");
  m.def(
      "cross_entropy_rows(Tensor logits, Tensor targets, int ignore_index, bool grad_into_logits=False) -> "
      "(Tensor loss, Tensor lse, Tensor predicted)");
  m.def(
      "cross_entropy_rows_bw(Tensor dloss, Tensor logits, Tensor targets, Tensor lse, int ignore_index) -> "
      "Tensor dlogits");
  m.def(
      "cross_entropy_rows_bw_(Tensor(a!) logits, Tensor dloss, Tensor targets, Tensor lse, int ignore_index) -> "
      "Tensor(a!)");
}

TORCH_LIBRARY_IMPL(xlstm, CPU, m) {
  namespace d = xlstm::ops::detail;
  m.impl("mlstm_chunkwise_fw", &d::reference_chunkwise_fw);
  m.impl("mlstm_chunkwise_fw_cached", &d::reference_chunkwise_fw_cached);
  m.impl("mlstm_chunkwise_bw", &d::reference_chunkwise_bw);
  m.impl("mlstm_step", &d::reference_step);
  m.impl("mlstm_step_", &d::reference_step_);
  m.impl("slstm_fw", &d::reference_slstm_fw);
  m.impl("slstm_bw", &d::reference_slstm_bw);
}
