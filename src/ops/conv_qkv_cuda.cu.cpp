// CUDA kernels of xlstm::mlstm_conv_qkv{,_bw} (kernels/mlstm/conv_qkv.cu): checks the arguments, runs
// the ATen implementation (with a one-time warning) where the kernels do not apply, and otherwise fills
// the parameter struct and allocates the outputs.
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <string>

#include "mlstm/conv_qkv.h"
#include "ops/conv_qkv.h"
#include "ops/cuda_binding.h"

namespace xlstm::ops::detail {
namespace {

namespace K = xlstm::kernels;

// Empty when the kernels cover these inputs, else why not.
std::string conv_qkv_unsupported(const torch::Tensor& x, const torch::Tensor& conv_weight, const torch::Tensor& wq) {
  const auto dt = x.scalar_type();
  if (!kernel_covers(dt))
    return std::string("dtype ") + c10::toString(dt);
  if (conv_weight.size(2) != K::kConvQkvKernel)
    return "convolution kernel size " + std::to_string(conv_weight.size(2)) + " (the kernels have " +
           std::to_string(K::kConvQkvKernel) + ")";
  if (wq.size(2) != K::kConvQkvBlock)
    return "projection block size " + std::to_string(wq.size(2)) + " (the kernels have " +
           std::to_string(K::kConvQkvBlock) + ")";
  if (x.size(1) > INT32_MAX || x.size(0) > INT32_MAX) return "sizes beyond 32 bits";
  return {};
}

bool use_kernels(const torch::Tensor& x, const torch::Tensor& conv_weight, const torch::Tensor& wq) {
  const std::string why = conv_qkv_unsupported(x, conv_weight, wq);
  if (why.empty()) return true;
  TORCH_WARN_ONCE("xlstm: no CUDA kernel for mlstm_conv_qkv with ", why, "; using the ATen implementation");
  return false;
}

// A (B, S, D) tensor with unit channel stride as the kernels address it (kept alive by `keep`).
K::TokenTensor tokens(const torch::Tensor& t, std::vector<torch::Tensor>& keep) {
  keep.push_back(t.stride(2) == 1 ? t : t.contiguous());
  const auto& u = keep.back();
  return {u.data_ptr(), u.stride(0), u.stride(1)};
}

const float* fptr(const torch::Tensor& t) { return t.defined() ? t.data_ptr<float>() : nullptr; }

// The parameters in fp32, in the kernels' layouts (kept alive by `keep`).
K::ConvQkvParams params(const torch::Tensor& x, const torch::Tensor& conv_weight, const OptTensor& conv_bias,
                        const torch::Tensor& wq, const torch::Tensor& wk, const torch::Tensor& wv,
                        const OptTensor& bq, const OptTensor& bk, const OptTensor& bv,
                        std::vector<torch::Tensor>& keep) {
  K::ConvQkvParams p;
  p.dtype = kernel_dtype(x);
  p.B = static_cast<int>(x.size(0));
  p.S = static_cast<int>(x.size(1));
  p.D = static_cast<int>(x.size(2));
  p.x = tokens(x, keep);
  for (const auto& t : {f32_contiguous(conv_weight), f32_contiguous(conv_bias), f32_contiguous(wq),
                        f32_contiguous(wk), f32_contiguous(wv), f32_contiguous(bq), f32_contiguous(bk),
                        f32_contiguous(bv)})
    keep.push_back(t);
  const size_t w = keep.size() - 8;
  p.conv_w = fptr(keep[w]);
  p.conv_b = fptr(keep[w + 1]);
  p.wq = fptr(keep[w + 2]);
  p.wk = fptr(keep[w + 3]);
  p.wv = fptr(keep[w + 4]);
  p.bq = fptr(keep[w + 5]);
  p.bk = fptr(keep[w + 6]);
  p.bv = fptr(keep[w + 7]);
  K::conv_qkv_grid(p, at::cuda::getDeviceProperties(x.device().index())->multiProcessorCount);
  return p;
}

ConvQkvOut conv_qkv_cuda(const torch::Tensor& x, const torch::Tensor& conv_weight, const OptTensor& conv_bias,
                         const torch::Tensor& wq, const torch::Tensor& wk, const torch::Tensor& wv,
                         const OptTensor& bq, const OptTensor& bk, const OptTensor& bv) {
  check_conv_qkv_args("mlstm_conv_qkv", x, conv_weight, conv_bias, wq, wk, wv, bq, bk, bv);
  if (!use_kernels(x, conv_weight, wq)) return reference_conv_qkv(x, conv_weight, conv_bias, wq, wk, wv, bq, bk, bv);
  const c10::cuda::CUDAGuard guard(x.device());
  std::vector<torch::Tensor> keep;
  auto p = params(x, conv_weight, conv_bias, wq, wk, wv, bq, bk, bv, keep);
  auto c = torch::empty(x.sizes(), x.options()), q = torch::empty_like(c), k = torch::empty_like(c),
       v = torch::empty_like(c);
  p.c = c.data_ptr();
  p.q = q.data_ptr();
  p.k = k.data_ptr();
  p.v = v.data_ptr();
  C10_CUDA_CHECK(K::conv_qkv_fw_cuda(p, at::cuda::getCurrentCUDAStream()));
  return {c, q, k, v};
}

ConvQkvBwOut conv_qkv_bw_cuda(const OptTensor& dc, const torch::Tensor& dq, const torch::Tensor& dk,
                              const torch::Tensor& dv, const torch::Tensor& x, const torch::Tensor& conv_weight,
                              const OptTensor& conv_bias, const torch::Tensor& wq, const torch::Tensor& wk,
                              const torch::Tensor& wv, const OptTensor& bq, const OptTensor& bk, const OptTensor& bv) {
  check_conv_qkv_args("mlstm_conv_qkv_bw", x, conv_weight, conv_bias, wq, wk, wv, bq, bk, bv);
  check_conv_qkv_grads("mlstm_conv_qkv_bw", x, dc, dq, dk, dv);
  if (!use_kernels(x, conv_weight, wq))
    return reference_conv_qkv_bw(dc, dq, dk, dv, x, conv_weight, conv_bias, wq, wk, wv, bq, bk, bv);
  const c10::cuda::CUDAGuard guard(x.device());
  std::vector<torch::Tensor> keep;
  auto p = params(x, conv_weight, conv_bias, wq, wk, wv, bq, bk, bv, keep);
  if (dc && dc->defined()) p.dc = tokens(*dc, keep);
  p.dq = tokens(dq, keep);
  p.dk = tokens(dk, keep);
  p.dv = tokens(dv, keep);
  auto dx = torch::empty(x.sizes(), x.options());
  auto partial = torch::empty({p.grid_x, x.size(2), K::kConvQkvGrads}, x.options().dtype(torch::kFloat32));
  p.dx = dx.data_ptr();
  p.partial = partial.data_ptr<float>();
  C10_CUDA_CHECK(K::conv_qkv_bw_cuda(p, at::cuda::getCurrentCUDAStream()));
  // The CTAs' slices added in a fixed order; per channel 4j + i: dwq, dwk, dwv [j][o][i] by o, dconv_w,
  // dconv_b, dbq, dbk, dbv (kernels/mlstm/conv_qkv.h).
  const auto g = partial.sum(0);  // (D, kConvQkvGrads)
  const int64_t Kc = K::kConvQkvKernel, D = x.size(2), NB = D / K::kConvQkvBlock;
  const auto part = [&](int64_t at, int64_t n) { return g.narrow(1, at, n); };
  const auto like = [](const torch::Tensor& grad, const torch::Tensor& param) {
    return grad.reshape(param.sizes()).to(param.scalar_type());
  };
  const auto block_grad = [&](int64_t at, const torch::Tensor& w) {  // (D, o) -> (NB, o, i)
    return like(part(at, 4).reshape({NB, 4, 4}).transpose(1, 2), w);
  };
  const auto bias_grad = [&](int64_t at, const OptTensor& b) {
    return b && b->defined() ? like(part(at, 1), *b) : torch::Tensor();
  };
  return {dx,
          like(part(12, Kc), conv_weight),
          bias_grad(12 + Kc, conv_bias),
          block_grad(0, wq),
          block_grad(4, wk),
          block_grad(8, wv),
          bias_grad(13 + Kc, bq),
          bias_grad(14 + Kc, bk),
          bias_grad(15 + Kc, bv)};
}

}  // namespace
}  // namespace xlstm::ops::detail

TORCH_LIBRARY_IMPL(xlstm, CUDA, m) {
  m.impl("mlstm_conv_qkv", &xlstm::ops::detail::conv_qkv_cuda);
  m.impl("mlstm_conv_qkv_bw", &xlstm::ops::detail::conv_qkv_bw_cuda);
}
