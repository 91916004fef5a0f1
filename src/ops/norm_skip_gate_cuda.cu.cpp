// CUDA kernels of xlstm::mlstm_norm_skip_gate{,_bw} (kernels/mlstm/norm_skip_gate.cu): checks the
// arguments, runs the ATen implementation (with a one-time warning) where the kernels do not apply,
// and otherwise fills the parameter struct and allocates the outputs.
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <string>

#include "mlstm/norm_skip_gate.h"
#include "ops/cuda_binding.h"
#include "ops/norm_skip_gate.h"

namespace xlstm::ops::detail {
namespace {

namespace K = xlstm::kernels;

// Empty when the kernels cover these inputs, else why not.
std::string norm_skip_gate_unsupported(const torch::Tensor& h) {
  const auto dt = h.scalar_type();
  if (!kernel_covers(dt))
    return std::string("dtype ") + c10::toString(dt);
  if (h.size(3) % 4 != 0 || h.size(3) > K::kNormSkipGateMaxDH)
    return "head dim " + std::to_string(h.size(3)) + " (a multiple of 4 up to " +
           std::to_string(K::kNormSkipGateMaxDH) + ")";
  return {};
}

bool norm_skip_gate_kernels_apply(const torch::Tensor& h) {
  const std::string why = norm_skip_gate_unsupported(h);
  if (why.empty()) return true;
  TORCH_WARN_ONCE("xlstm: no CUDA kernel for mlstm_norm_skip_gate with ", why, "; using the ATen implementation");
  return false;
}

// The distance between consecutive (b, s) rows of a (B, S, D) tensor.
int64_t row_stride(const torch::Tensor& t) { return t.size(1) == 1 ? t.stride(0) : t.stride(1); }

// A (B, S, D) tensor whose (b, s) rows are equally spaced with contiguous channels and a row stride
// that keeps them aligned, as the kernels address it (row r = b * S + s at r * row_stride); copied
// when it is not.
torch::Tensor token_rows(const torch::Tensor& t) {
  const bool ok = t.stride(2) == 1 && row_stride(t) % 4 == 0 &&
                  (t.size(0) == 1 || t.stride(0) == t.size(1) * row_stride(t));
  return aligned16(ok ? t : t.contiguous());
}

K::NormSkipGateParams params(const torch::Tensor& h, const torch::Tensor& c, const torch::Tensor& z,
                             const torch::Tensor& norm_weight, const torch::Tensor& skip) {
  K::NormSkipGateParams p;
  p.dtype = kernel_dtype(h);
  p.B = static_cast<int>(h.size(0));
  p.NH = static_cast<int>(h.size(1));
  p.S = static_cast<int>(h.size(2));
  p.DH = static_cast<int>(h.size(3));
  p.h = h.data_ptr();
  p.c = c.data_ptr();
  p.z = z.data_ptr();
  p.c_row = row_stride(c);
  p.z_row = row_stride(z);
  p.norm_weight = norm_weight.data_ptr<float>();
  p.skip = skip.data_ptr<float>();
  const int sms = at::cuda::getDeviceProperties(h.device().index())->multiProcessorCount;
  p.grid_rows = K::norm_skip_gate_grid_rows(h.size(0) * h.size(2), p.NH, sms);
  return p;
}

NormSkipGateOut norm_skip_gate_cuda(const torch::Tensor& h_in, const torch::Tensor& c_in, const torch::Tensor& z_in,
                                    const torch::Tensor& norm_weight, const torch::Tensor& skip, double eps) {
  check_norm_skip_gate_args("mlstm_norm_skip_gate", h_in, c_in, z_in, norm_weight, skip);
  if (!norm_skip_gate_kernels_apply(h_in)) return reference_norm_skip_gate(h_in, c_in, z_in, norm_weight, skip, eps);
  const c10::cuda::CUDAGuard guard(h_in.device());
  const auto h = aligned16(h_in.contiguous()), c = token_rows(c_in), z = token_rows(z_in);
  const auto w = f32_contiguous(norm_weight), sk = f32_contiguous(skip);
  auto p = params(h, c, z, w, sk);
  p.eps = static_cast<float>(eps);
  auto y = torch::empty(c.sizes(), h.options());
  const auto stats = torch::TensorOptions().dtype(torch::kFloat32).device(h.device());
  auto mean = torch::empty({h.size(0), h.size(2), h.size(1)}, stats), rstd = torch::empty_like(mean);
  p.y = y.data_ptr();
  p.mean = mean.data_ptr<float>();
  p.rstd = rstd.data_ptr<float>();
  C10_CUDA_CHECK(K::norm_skip_gate_fw_cuda(p, at::cuda::getCurrentCUDAStream()));
  return {y, mean, rstd};
}

NormSkipGateBwOut norm_skip_gate_bw_cuda(const torch::Tensor& dy_in, const torch::Tensor& h_in,
                                         const torch::Tensor& c_in, const torch::Tensor& z_in,
                                         const torch::Tensor& norm_weight, const torch::Tensor& skip,
                                         const torch::Tensor& mean_in, const torch::Tensor& rstd_in) {
  check_norm_skip_gate_bw_args("mlstm_norm_skip_gate_bw", dy_in, h_in, c_in, z_in, norm_weight, skip, mean_in,
                               rstd_in);
  if (!norm_skip_gate_kernels_apply(h_in))
    return reference_norm_skip_gate_bw(dy_in, h_in, c_in, z_in, norm_weight, skip, mean_in, rstd_in);
  const c10::cuda::CUDAGuard guard(h_in.device());
  const auto h = aligned16(h_in.contiguous()), c = token_rows(c_in), z = token_rows(z_in);
  const auto w = f32_contiguous(norm_weight), sk = f32_contiguous(skip);
  const auto dy = aligned16(dy_in.contiguous()), mean = mean_in.contiguous(), rstd = rstd_in.contiguous();
  auto p = params(h, c, z, w, sk);
  auto dh = torch::empty_like(h), dc = torch::empty(c.sizes(), h.options()), dz = torch::empty_like(dc);
  auto partial = torch::empty({p.grid_rows, 2, c.size(2)}, w.options());
  p.dy = dy.data_ptr();
  p.mean = mean.data_ptr<float>();
  p.rstd = rstd.data_ptr<float>();
  p.dh = dh.data_ptr();
  p.dc = dc.data_ptr();
  p.dz = dz.data_ptr();
  p.dc_row = row_stride(dc);
  p.dz_row = row_stride(dz);
  p.partial = partial.data_ptr<float>();
  C10_CUDA_CHECK(K::norm_skip_gate_bw_cuda(p, at::cuda::getCurrentCUDAStream()));
  const auto sums = partial.sum(0);  // (2, Di): the CTAs' slices in a fixed order
  return {dh, dc, dz, sums[0].to(norm_weight.scalar_type()), sums[1].to(skip.scalar_type())};
}

}  // namespace
}  // namespace xlstm::ops::detail

TORCH_LIBRARY_IMPL(xlstm, CUDA, m) {
  m.impl("mlstm_norm_skip_gate", &xlstm::ops::detail::norm_skip_gate_cuda);
  m.impl("mlstm_norm_skip_gate_bw", &xlstm::ops::detail::norm_skip_gate_bw_cuda);
}
