// xlstm::mlstm_norm_skip_gate: argument checks, the ATen implementation (CPU kernels, CUDA fallback)
// and the autograd kernel, whose backward is one xlstm::mlstm_norm_skip_gate_bw call.
#include "ops/norm_skip_gate.h"

#include <torch/csrc/autograd/functions/utils.h>
#include <torch/library.h>

#include <utility>
#include <vector>

#include "ops/tensor_args.h"
#include "xlstm/ops.h"

namespace xlstm::ops::detail {

void check_norm_skip_gate_args(const char* op, const torch::Tensor& h, const torch::Tensor& c, const torch::Tensor& z,
                               const torch::Tensor& norm_weight, const torch::Tensor& skip) {
  TORCH_CHECK(is_float(h) && h.dim() == 4, op, ": h must be a floating (B, NH, S, DH) tensor, got ",
              sizes_of(h));
  const int64_t B = h.size(0), NH = h.size(1), S = h.size(2), DH = h.size(3), Di = NH * DH;
  TORCH_CHECK(B > 0 && NH > 0 && S > 0 && DH > 0, op, ": h must not be empty, got ", h.sizes());
  for (const auto& [name, t] : {std::pair{"c", &c}, std::pair{"z", &z}}) {
    TORCH_CHECK(t->defined() && t->sizes() == c10::IntArrayRef({B, S, Di}), op, ": ", name, " must be (", B, ", ", S,
                ", ", Di, ") for h of ", h.sizes(), ", got ", sizes_of(*t));
    TORCH_CHECK(t->scalar_type() == h.scalar_type(), op, ": ", name, " must have h's dtype ", h.scalar_type(),
                ", got ", t->scalar_type());
    TORCH_CHECK(t->device() == h.device(), op, ": ", name, " is on ", t->device(), ", h on ", h.device());
  }
  for (const auto& [name, t] : {std::pair{"norm_weight", &norm_weight}, std::pair{"skip", &skip}}) {
    TORCH_CHECK(is_float(*t) && t->dim() == 1 && t->size(0) == Di, op, ": ", name, " must be a floating (", Di,
                ") tensor, got ", sizes_of(*t));
    TORCH_CHECK(t->device() == h.device(), op, ": ", name, " is on ", t->device(), ", h on ", h.device());
  }
}

void check_norm_skip_gate_bw_args(const char* op, const torch::Tensor& dy, const torch::Tensor& h,
                                  const torch::Tensor& c, const torch::Tensor& z, const torch::Tensor& norm_weight,
                                  const torch::Tensor& skip, const torch::Tensor& mean, const torch::Tensor& rstd) {
  check_norm_skip_gate_args(op, h, c, z, norm_weight, skip);
  TORCH_CHECK(dy.defined() && dy.sizes() == c.sizes() && dy.scalar_type() == h.scalar_type() &&
                  dy.device() == h.device(),
              op, ": dy must be like c ", c.sizes(), " ", h.scalar_type(), ", got ",
              sizes_of(dy));
  const std::vector<int64_t> stats{h.size(0), h.size(2), h.size(1)};
  const auto stats_dtype = aten_compute_dtype(h);
  for (const auto& [name, t] : {std::pair{"mean", &mean}, std::pair{"rstd", &rstd}})
    TORCH_CHECK(t->defined() && t->sizes() == c10::IntArrayRef(stats) && t->scalar_type() == stats_dtype &&
                    t->device() == h.device(),
                op, ": ", name, " must be the forward's (B, S, NH) = ", stats, " ", stats_dtype, " tensor, got ",
                sizes_of(*t));
}

NormSkipGateOut reference_norm_skip_gate(const torch::Tensor& h, const torch::Tensor& c, const torch::Tensor& z,
                                         const torch::Tensor& norm_weight, const torch::Tensor& skip, double eps) {
  check_norm_skip_gate_args("mlstm_norm_skip_gate", h, c, z, norm_weight, skip);
  const auto ct = aten_compute_dtype(h);
  const int64_t B = h.size(0), NH = h.size(1), S = h.size(2), DH = h.size(3);
  const auto x = h.to(ct).transpose(1, 2);  // (B, S, NH, DH)
  const auto mean = x.mean(-1);
  const auto centered = x - mean.unsqueeze(-1);
  const auto rstd = (centered.square().mean(-1) + eps).rsqrt();
  const auto xhat = (centered * rstd.unsqueeze(-1)).reshape({B, S, NH * DH});
  const auto zf = z.to(ct);
  const auto pre = xhat * (1 + norm_weight.to(ct)) + skip.to(ct) * c.to(ct);
  return {(pre * zf * torch::sigmoid(zf)).to(h.scalar_type()), mean.contiguous(), rstd.contiguous()};
}

NormSkipGateBwOut reference_norm_skip_gate_bw(const torch::Tensor& dy, const torch::Tensor& h, const torch::Tensor& c,
                                              const torch::Tensor& z, const torch::Tensor& norm_weight,
                                              const torch::Tensor& skip, const torch::Tensor& mean,
                                              const torch::Tensor& rstd) {
  check_norm_skip_gate_bw_args("mlstm_norm_skip_gate_bw", dy, h, c, z, norm_weight, skip, mean, rstd);
  const auto ct = aten_compute_dtype(h);
  const int64_t B = h.size(0), NH = h.size(1), S = h.size(2), DH = h.size(3);
  const auto xhat = (h.to(ct).transpose(1, 2) - mean.unsqueeze(-1)) * rstd.unsqueeze(-1);  // (B, S, NH, DH)
  const auto xflat = xhat.reshape({B, S, NH * DH});
  const auto zf = z.to(ct), cf = c.to(ct), dyf = dy.to(ct), w1 = 1 + norm_weight.to(ct), sk = skip.to(ct);
  const auto sg = torch::sigmoid(zf);
  const auto g = dyf * zf * sg;  // gradient of the pre-gate value
  const auto pre = xflat * w1 + sk * cf;
  const auto dz = dyf * pre * sg * (1 + zf * (1 - sg));
  const auto dxhat = (g * w1).view({B, S, NH, DH});
  const auto a = dxhat.mean(-1, /*keepdim=*/true), b = (dxhat * xhat).mean(-1, /*keepdim=*/true);
  const auto dh = (rstd.unsqueeze(-1) * (dxhat - a - xhat * b)).transpose(1, 2).contiguous();
  const auto dt = h.scalar_type();
  return {dh.to(dt), (g * sk).to(dt), dz.to(dt), (g * xflat).flatten(0, 1).sum(0).to(norm_weight.scalar_type()),
          (g * cf).flatten(0, 1).sum(0).to(skip.scalar_type())};
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class NormSkipGateFunction : public torch::autograd::Function<NormSkipGateFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& h, const torch::Tensor& c,
                               const torch::Tensor& z, const torch::Tensor& norm_weight, const torch::Tensor& skip,
                               double eps) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    auto [y, mean, rstd] = ops::mlstm_norm_skip_gate(h, c, z, norm_weight, skip, eps);
    ctx->save_for_backward({h, c, z, norm_weight, skip, mean, rstd});
    ctx->mark_non_differentiable({mean, rstd});
    return {y, mean, rstd};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    if (!grads[0].defined()) return {torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
                                     torch::Tensor(), torch::Tensor()};
    auto [dh, dc, dz, dw, dskip] = ops::mlstm_norm_skip_gate_bw(grads[0], s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
    return {dh, dc, dz, dw, dskip, torch::Tensor()};
  }
};

NormSkipGateOut norm_skip_gate_autograd(const torch::Tensor& h, const torch::Tensor& c, const torch::Tensor& z,
                                        const torch::Tensor& norm_weight, const torch::Tensor& skip, double eps) {
  if (!torch::autograd::compute_requires_grad(h, c, z, norm_weight, skip)) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    return ops::mlstm_norm_skip_gate(h, c, z, norm_weight, skip, eps);
  }
  auto out = NormSkipGateFunction::apply(h, c, z, norm_weight, skip, eps);
  return {out[0], out[1], out[2]};
}

}  // namespace
}  // namespace xlstm::ops::detail

TORCH_LIBRARY_IMPL(xlstm, CPU, m) {
  m.impl("mlstm_norm_skip_gate", &xlstm::ops::detail::reference_norm_skip_gate);
  m.impl("mlstm_norm_skip_gate_bw", &xlstm::ops::detail::reference_norm_skip_gate_bw);
}

TORCH_LIBRARY_IMPL(xlstm, Autograd, m) {
  m.impl("mlstm_norm_skip_gate", &xlstm::ops::detail::norm_skip_gate_autograd);
}
