// CUDA kernels of xlstm::layer_norm{,_bw} (kernels/norm/layer_norm.cu): checks the arguments, runs the
// ATen implementation (with a one-time warning) where the kernels do not apply, and otherwise fills the
// parameter struct and allocates the outputs.
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <string>

#include "norm/layer_norm.h"
#include "ops/cuda_binding.h"
#include "ops/layer_norm.h"

namespace xlstm::ops::detail {
namespace {

namespace K = xlstm::kernels;

// Empty when the kernels cover these inputs, else why not.
std::string layer_norm_unsupported(const torch::Tensor& x, torch::ScalarType out) {
  if (!kernel_covers(x.scalar_type()) || !kernel_covers(out))
    return std::string("dtypes ") + c10::toString(x.scalar_type()) + " -> " + c10::toString(out);
  const int64_t E = x.size(-1);
  if (E % 4 != 0 || E > K::kLayerNormMaxE)
    return "E " + std::to_string(E) + " (a multiple of 4 up to " + std::to_string(K::kLayerNormMaxE) + ")";
  return {};
}

bool use_kernels(const torch::Tensor& x, torch::ScalarType out) {
  const std::string why = layer_norm_unsupported(x, out);
  if (why.empty()) return true;
  TORCH_WARN_ONCE("xlstm: no CUDA kernel for layer_norm with ", why, "; using the ATen implementation");
  return false;
}

// Contiguous with 16-byte aligned rows.
torch::Tensor rows_of(const torch::Tensor& t) { return aligned16(t.contiguous()); }

K::LayerNormParams params(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                          double weight_offset, torch::ScalarType out) {
  K::LayerNormParams p;
  p.x_dtype = kernel_dtype(x);
  p.y_dtype = kernel_dtype(out);
  p.E = static_cast<int>(x.size(-1));
  p.rows = x.numel() / p.E;
  p.weight_offset = static_cast<float>(weight_offset);
  p.x = x.data_ptr();
  p.weight = weight.defined() ? weight.data_ptr<float>() : nullptr;
  p.bias = bias.defined() ? bias.data_ptr<float>() : nullptr;
  p.grid_rows = K::layer_norm_grid_rows(p.rows, at::cuda::getDeviceProperties(x.device().index())->multiProcessorCount);
  return p;
}

torch::Tensor stats_like(const torch::Tensor& x) {
  return torch::empty(x.sizes().slice(0, x.dim() - 1), x.options().dtype(torch::kFloat32));
}

LayerNormOut layer_norm_cuda(const torch::Tensor& x_in, const OptTensor& weight, const OptTensor& bias,
                             double weight_offset, double eps, std::optional<torch::ScalarType> out_dtype) {
  check_layer_norm_args("layer_norm", x_in, weight, bias, out_dtype);
  const auto out = layer_norm_out_dtype(x_in, out_dtype);
  if (!use_kernels(x_in, out)) return reference_layer_norm(x_in, weight, bias, weight_offset, eps, out_dtype);
  const c10::cuda::CUDAGuard guard(x_in.device());
  const auto x = rows_of(x_in), w = f32_contiguous(weight), b = f32_contiguous(bias);
  auto y = torch::empty(x.sizes(), x.options().dtype(out));
  auto mean = stats_like(x), rstd = stats_like(x);
  if (x.numel() == 0) return {y, mean, rstd};
  auto p = params(x, w, b, weight_offset, out);
  p.eps = static_cast<float>(eps);
  p.y = y.data_ptr();
  p.mean = mean.data_ptr<float>();
  p.rstd = rstd.data_ptr<float>();
  C10_CUDA_CHECK(K::layer_norm_fw_cuda(p, at::cuda::getCurrentCUDAStream()));
  return {y, mean, rstd};
}

LayerNormBwOut layer_norm_bw_cuda(const torch::Tensor& dy_in, const torch::Tensor& x_in, const OptTensor& weight,
                                  const OptTensor& bias, double weight_offset, const torch::Tensor& mean_in,
                                  const torch::Tensor& rstd_in) {
  check_layer_norm_bw_args("layer_norm_bw", dy_in, x_in, weight, bias, mean_in, rstd_in);
  if (!use_kernels(x_in, dy_in.scalar_type()))
    return reference_layer_norm_bw(dy_in, x_in, weight, bias, weight_offset, mean_in, rstd_in);
  const c10::cuda::CUDAGuard guard(x_in.device());
  const auto x = rows_of(x_in), dy = rows_of(dy_in), w = f32_contiguous(weight);
  const auto mean = mean_in.contiguous(), rstd = rstd_in.contiguous();
  auto dx = torch::empty(x.sizes(), x.options());
  // The sum over the rows of t (rows, E) as param's gradient (undefined without param).
  const auto column_sum = [&](const torch::Tensor& t, const OptTensor& param) {
    if (!param || !param->defined()) return torch::Tensor();
    return t.reshape({-1, x.size(-1)}).sum(0, /*keepdim=*/false, torch::kFloat32).to(param->scalar_type());
  };
  if (x.numel() == 0) return {dx, column_sum(dy, weight), column_sum(dy, bias)};
  auto p = params(x, w, torch::Tensor(), weight_offset, dy.scalar_type());
  auto partial = torch::empty({p.grid_rows, x.size(-1)}, x.options().dtype(torch::kFloat32));
  p.dy = dy.data_ptr();
  p.mean = mean.data_ptr<float>();
  p.rstd = rstd.data_ptr<float>();
  p.dx = dx.data_ptr();
  p.partial = partial.data_ptr<float>();
  C10_CUDA_CHECK(K::layer_norm_bw_cuda(p, at::cuda::getCurrentCUDAStream()));
  // d(weight): the CTAs' slices added in a fixed order; d(bias): the column sum of dy.
  return {dx, column_sum(partial, weight), column_sum(dy, bias)};
}

}  // namespace
}  // namespace xlstm::ops::detail

TORCH_LIBRARY_IMPL(xlstm, CUDA, m) {
  m.impl("layer_norm", &xlstm::ops::detail::layer_norm_cuda);
  m.impl("layer_norm_bw", &xlstm::ops::detail::layer_norm_bw_cuda);
}
