// The ATen implementation of the sLSTM ops: the forward runs the reference loop, the backward
// differentiates it with autograd (recomputing the forward from wx).
#include "ops/slstm_ops.h"
#include "xlstm/slstm/slstm_reference.h"

namespace xlstm::ops::detail {

SlstmFwOut reference_slstm_fw(const torch::Tensor& wx, const torch::Tensor& R, const torch::Tensor& b,
                              const OptTensor& s0, bool with_cache) {
  check_slstm_fw_args("xlstm::slstm_fw", wx, R, b, s0);
  return aten_slstm_fw(wx, R, b, s0, with_cache);
}

SlstmFwOut aten_slstm_fw(const torch::Tensor& wx, const torch::Tensor& R, const torch::Tensor& b,
                         const OptTensor& s0, bool /*with_cache*/) {
  auto [y, state_last] = slstm_forward_reference(wx, R, b, s0.value_or(torch::Tensor()));
  const auto empty = torch::empty({0}, wx.options().dtype(torch::kFloat32));
  return {y, state_last, empty, empty};
}

SlstmBwOut reference_slstm_bw(const torch::Tensor& dy, const OptTensor& dstate_last, const torch::Tensor& wx,
                              const torch::Tensor& R, const torch::Tensor& b, const OptTensor& s0,
                              const torch::Tensor& y, const torch::Tensor& /*gates*/,
                              const torch::Tensor& /*states*/) {
  check_slstm_bw_args("xlstm::slstm_bw", dy, dstate_last, wx, R, b, s0, y);
  return aten_slstm_bw(dy, dstate_last, wx, R, b, s0);
}

SlstmBwOut aten_slstm_bw(const torch::Tensor& dy, const OptTensor& dstate_last, const torch::Tensor& wx,
                         const torch::Tensor& R, const torch::Tensor& b, const OptTensor& s0) {
  torch::AutoGradMode grad_mode(true);
  const auto leaf = [](const torch::Tensor& t) { return t.detach().requires_grad_(true); };
  std::vector<torch::Tensor> inputs{leaf(wx), leaf(R), leaf(b)};
  if (s0) inputs.push_back(leaf(*s0));
  auto [y_re, state_re] = slstm_forward_reference(inputs[0], inputs[1], inputs[2], s0 ? inputs[3] : torch::Tensor());
  std::vector<torch::Tensor> outputs{y_re}, grads{dy.to(y_re.scalar_type())};
  if (dstate_last) {
    outputs.push_back(state_re);
    grads.push_back(dstate_last->to(state_re.scalar_type()));
  }
  const auto d = torch::autograd::grad(outputs, inputs, grads, /*retain_graph=*/false, /*create_graph=*/false,
                                       /*allow_unused=*/true);
  const auto grad_or_zeros = [](const torch::Tensor& g, const torch::Tensor& like) {
    return g.defined() ? g.to(like.scalar_type()) : torch::zeros_like(like);
  };
  return {grad_or_zeros(d[0], wx), grad_or_zeros(d[1], R), grad_or_zeros(d[2], b),
          s0 ? grad_or_zeros(d[3], *s0) : torch::Tensor()};
}

}  // namespace xlstm::ops::detail
