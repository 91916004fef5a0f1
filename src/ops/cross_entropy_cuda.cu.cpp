// CUDA kernels of xlstm::cross_entropy_rows{,_bw,_bw_} (kernels/loss/cross_entropy.cu): checks the
// arguments, runs the ATen implementation (with a one-time warning) for dtypes the kernels do not
// cover, and otherwise fills the parameter struct and allocates the outputs.
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "loss/cross_entropy.h"
#include "ops/cross_entropy.h"
#include "ops/cuda_binding.h"

namespace xlstm::ops::detail {
namespace {

namespace K = xlstm::kernels;

bool cross_entropy_kernels_apply(const torch::Tensor& logits) {
  const auto dt = logits.scalar_type();
  if (kernel_covers(dt)) return true;
  TORCH_WARN_ONCE("xlstm: no CUDA kernel for cross_entropy_rows with dtype ", dt, "; using the ATen implementation");
  return false;
}

// Rows with contiguous columns (any row stride), as the kernels address them; copied otherwise.
torch::Tensor unit_columns(const torch::Tensor& t) { return t.stride(1) == 1 || t.size(1) == 1 ? t : t.contiguous(); }

K::CrossEntropyParams params(const torch::Tensor& logits, const torch::Tensor& targets, int64_t ignore_index) {
  K::CrossEntropyParams p;
  p.dtype = kernel_dtype(logits);
  p.rows = logits.size(0);
  p.vocab = logits.size(1);
  p.row_stride = logits.stride(0);
  p.ignore_index = ignore_index;
  p.logits = logits.data_ptr();
  p.targets = targets.data_ptr<int64_t>();
  return p;
}

CrossEntropyOut cross_entropy_rows_cuda(const torch::Tensor& logits_in, const torch::Tensor& targets_in,
                                        int64_t ignore_index, bool grad_into_logits) {
  check_cross_entropy_args("cross_entropy_rows", logits_in, targets_in);
  if (!cross_entropy_kernels_apply(logits_in))
    return reference_cross_entropy_rows(logits_in, targets_in, ignore_index, grad_into_logits);
  const c10::cuda::CUDAGuard guard(logits_in.device());
  const auto logits = unit_columns(logits_in), targets = targets_in.contiguous();
  const auto f32 = logits.options().dtype(torch::kFloat32);
  auto loss = torch::empty({logits.size(0)}, f32), lse = torch::empty_like(loss);
  auto predicted = torch::empty({logits.size(0)}, targets.options());
  if (logits.size(0) == 0) return {loss, lse, predicted};
  auto p = params(logits, targets, ignore_index);
  p.loss = loss.data_ptr<float>();
  p.lse = lse.data_ptr<float>();
  p.predicted = predicted.data_ptr<int64_t>();
  C10_CUDA_CHECK(K::cross_entropy_fw_cuda(p, at::cuda::getCurrentCUDAStream()));
  return {loss, lse, predicted};
}

// The kernel's gradient into dlogits (contiguous, logits' sizes and dtype; may be logits itself).
void backward_into(const torch::Tensor& dloss_in, const torch::Tensor& logits, const torch::Tensor& targets_in,
                   const torch::Tensor& lse_in, int64_t ignore_index, const torch::Tensor& dlogits) {
  if (logits.size(0) == 0) return;
  const auto targets = targets_in.contiguous(), dloss = dloss_in.contiguous(), lse = lse_in.contiguous();
  auto p = params(logits, targets, ignore_index);
  p.lse = lse.data_ptr<float>();
  p.dloss = dloss.data_ptr<float>();
  p.dlogits = dlogits.data_ptr();
  C10_CUDA_CHECK(K::cross_entropy_bw_cuda(p, at::cuda::getCurrentCUDAStream()));
}

torch::Tensor cross_entropy_rows_bw_cuda(const torch::Tensor& dloss, const torch::Tensor& logits_in,
                                         const torch::Tensor& targets, const torch::Tensor& lse,
                                         int64_t ignore_index) {
  check_cross_entropy_bw_args("cross_entropy_rows_bw", dloss, logits_in, targets, lse);
  if (!cross_entropy_kernels_apply(logits_in))
    return reference_cross_entropy_rows_bw(dloss, logits_in, targets, lse, ignore_index);
  const c10::cuda::CUDAGuard guard(logits_in.device());
  const auto logits = unit_columns(logits_in);
  auto dlogits = torch::empty(logits.sizes(), logits.options());
  backward_into(dloss, logits, targets, lse, ignore_index, dlogits);
  return dlogits;
}

// In place where logits are contiguous (each element is read before the same thread writes it).
torch::Tensor& cross_entropy_rows_bw_cuda_(torch::Tensor& logits, const torch::Tensor& dloss,
                                           const torch::Tensor& targets, const torch::Tensor& lse,
                                           int64_t ignore_index) {
  check_cross_entropy_bw_args("cross_entropy_rows_bw_", dloss, logits, targets, lse);
  if (!cross_entropy_kernels_apply(logits) || !logits.is_contiguous())
    return logits.copy_(cross_entropy_rows_bw_cuda(dloss, logits, targets, lse, ignore_index));
  const c10::cuda::CUDAGuard guard(logits.device());
  backward_into(dloss, logits, targets, lse, ignore_index, logits);
  return logits;
}

}  // namespace
}  // namespace xlstm::ops::detail

TORCH_LIBRARY_IMPL(xlstm, CUDA, m) {
  m.impl("cross_entropy_rows", &xlstm::ops::detail::cross_entropy_rows_cuda);
  m.impl("cross_entropy_rows_bw", &xlstm::ops::detail::cross_entropy_rows_bw_cuda);
  m.impl("cross_entropy_rows_bw_", &xlstm::ops::detail::cross_entropy_rows_bw_cuda_);
}
