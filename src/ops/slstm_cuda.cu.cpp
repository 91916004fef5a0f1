// CUDA kernels of the sLSTM ops: checks the arguments, decides whether the fused kernels cover them
// (else the ATen loop runs, with a one-time warning), converts to the compute dtype (bf16 for bf16
// inputs; fp32 for fp32 and for fp16, whose inputs convert exactly), allocates outputs and caches, and fills kernels/slstm/params.h. The backward's
// dR and db are reductions over all steps of the gate gradients the kernel writes: one batched GEMM
// and one sum after the serial loop, at tensor-core rate, instead of work on the per-step critical path.
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <string>

#include "ops/cuda_binding.h"
#include "ops/slstm_ops.h"
#include "slstm/params.h"

namespace xlstm::ops::detail {
namespace {

namespace K = xlstm::kernels;

torch::ScalarType compute_dtype(const torch::Tensor& wx) {
  return wx.scalar_type() == torch::kBFloat16 ? torch::kBFloat16 : torch::kFloat32;
}

// The parameters with sizes, dtype and launch shape filled; shape.supported false (and `why`) when the
// kernels do not cover the inputs.
K::SlstmParams shaped_params(const torch::Tensor& wx, std::string& why) {
  K::SlstmParams p;
  const auto dt = wx.scalar_type();
  if (!kernel_covers(dt)) {
    why = std::string("dtype ") + c10::toString(dt);
    return p;
  }
  p.dtype = compute_dtype(wx) == torch::kFloat32 ? K::SlstmDType::f32 : K::SlstmDType::bf16;
  p.B = static_cast<int>(wx.size(0));
  p.S = static_cast<int>(wx.size(1));
  p.NH = static_cast<int>(wx.size(2));
  p.DH = static_cast<int>(wx.size(4));
  const auto* prop = at::cuda::getDeviceProperties(wx.device().index());
  if (prop->major < 8) {
    why = "compute capability " + std::to_string(prop->major) + "." + std::to_string(prop->minor) + " (< 8.0)";
    return p;
  }
  const int max_cluster = prop->major >= 9 ? 16 : 1;
  const auto shape = K::slstm_launch_shape(p, max_cluster, prop->sharedMemPerBlockOptin);
  if (!shape.supported) {
    why = "head dim " + std::to_string(p.DH) + " (need a multiple of 16 up to 128 or of 32 up to 256" +
          (prop->major < 9 ? ", at most 64 below compute capability 9.0)" : ")");
    return p;
  }
  p.cluster = shape.cluster;
  p.ksplit = shape.ksplit;
  return p;
}

bool use_kernels(const char* op, const std::string& why) {
  if (why.empty()) return true;
  TORCH_WARN_ONCE("xlstm: no fused CUDA sLSTM kernel for ", why, " (first seen in ", op,
                  "); using the ATen loop");
  return false;
}

// wx in the compute dtype with unit pairs loadable in one access: contiguous innermost dimension, even
// strides and an aligned start (else a contiguous copy).
torch::Tensor kernel_wx(const torch::Tensor& wx) {
  auto t = wx.to(compute_dtype(wx));
  const bool ok = t.stride(4) == 1 && t.stride(0) % 2 == 0 && t.stride(1) % 2 == 0 && t.stride(2) % 2 == 0 &&
                  t.stride(3) % 2 == 0 && reinterpret_cast<uintptr_t>(t.data_ptr()) % (2 * t.element_size()) == 0;
  return ok ? t : t.contiguous();
}

void check_launch(cudaError_t err, const char* op) {
  TORCH_CHECK(err == cudaSuccess, op, ": kernel launch failed: ", cudaGetErrorString(err));
}

SlstmFwOut slstm_fw_cuda(const torch::Tensor& wx, const torch::Tensor& R, const torch::Tensor& b,
                         const OptTensor& s0, bool with_cache) {
  constexpr const char* op = "xlstm::slstm_fw";
  check_slstm_fw_args(op, wx, R, b, s0);
  std::string why;
  K::SlstmParams p = shaped_params(wx, why);
  if (!use_kernels(op, why)) return aten_slstm_fw(wx, R, b, s0, with_cache);
  const c10::cuda::CUDAGuard guard(wx.device());

  const auto cdt = compute_dtype(wx);
  const auto wxk = kernel_wx(wx);
  const auto Rk = R.to(cdt).contiguous();
  const auto bk = f32_contiguous(b);
  const auto s0k = s0 ? f32_contiguous(*s0) : torch::Tensor();
  const auto f32 = wx.options().dtype(torch::kFloat32);
  auto y = torch::empty({p.B, p.S, p.NH, p.DH}, wx.options().dtype(cdt));
  auto state_last = torch::empty({4, p.B, p.NH * p.DH}, f32);
  auto gates = with_cache ? torch::empty({p.B, p.S, p.NH, 4, p.DH}, f32) : torch::empty({0}, f32);
  auto states = with_cache ? torch::empty({p.S, 3, p.B, p.NH * p.DH}, f32) : torch::empty({0}, f32);

  p.wx = wxk.data_ptr();
  p.wx_sb = wxk.stride(0);
  p.wx_st = wxk.stride(1);
  p.wx_sh = wxk.stride(2);
  p.wx_sg = wxk.stride(3);
  p.R = Rk.data_ptr();
  p.bias = bk.data_ptr<float>();
  p.s0 = s0k.defined() ? s0k.data_ptr<float>() : nullptr;
  p.y = y.data_ptr();
  p.state_last = state_last.data_ptr<float>();
  p.gates = with_cache ? gates.data_ptr<float>() : nullptr;
  p.states = with_cache ? states.data_ptr<float>() : nullptr;
  check_launch(K::slstm_fw_cuda(p, at::cuda::getCurrentCUDAStream()), op);
  return {y.to(wx.scalar_type()), state_last, gates, states};
}

SlstmBwOut slstm_bw_cuda(const torch::Tensor& dy, const OptTensor& dstate_last, const torch::Tensor& wx,
                         const torch::Tensor& R, const torch::Tensor& b, const OptTensor& s0, const torch::Tensor& y,
                         const torch::Tensor& gates, const torch::Tensor& states) {
  constexpr const char* op = "xlstm::slstm_bw";
  check_slstm_bw_args(op, dy, dstate_last, wx, R, b, s0, y);
  std::string why;
  K::SlstmParams p = shaped_params(wx, why);
  if (gates.numel() == 0 || !use_kernels(op, why))  // no caches: the forward ran the ATen loop
    return aten_slstm_bw(dy, dstate_last, wx, R, b, s0);
  const std::vector<int64_t> gates_shape{p.B, p.S, p.NH, 4, p.DH}, states_shape{p.S, 3, p.B, p.NH * p.DH};
  TORCH_CHECK(gates.sizes() == gates_shape && gates.scalar_type() == torch::kFloat32 && gates.is_contiguous(), op,
              ": gates must be the forward's cache, contiguous fp32 ", c10::IntArrayRef(gates_shape), ", got ",
              gates.sizes());
  TORCH_CHECK(states.sizes() == states_shape && states.scalar_type() == torch::kFloat32 && states.is_contiguous(),
              op, ": states must be the forward's cache, contiguous fp32 ", c10::IntArrayRef(states_shape), ", got ",
              states.sizes());
  const c10::cuda::CUDAGuard guard(wx.device());

  const auto cdt = compute_dtype(wx);
  const auto dyk = dy.to(cdt).contiguous();
  const auto Rk = R.to(cdt).contiguous();
  const auto s0k = s0 ? f32_contiguous(*s0) : torch::Tensor();
  const auto dlast = dstate_last ? f32_contiguous(*dstate_last) : torch::Tensor();
  const auto f32 = wx.options().dtype(torch::kFloat32);
  auto dgates = torch::empty(gates_shape, f32);
  auto ds0 = torch::empty({4, p.B, p.NH * p.DH}, f32);

  p.R = Rk.data_ptr();
  p.s0 = s0k.defined() ? s0k.data_ptr<float>() : nullptr;
  p.gates = gates.data_ptr<float>();
  p.states = states.data_ptr<float>();
  p.dy = dyk.data_ptr();
  p.dstate_last = dlast.defined() ? dlast.data_ptr<float>() : nullptr;
  p.dgates = dgates.data_ptr<float>();
  p.ds0 = ds0.data_ptr<float>();
  check_launch(K::slstm_bw_cuda(p, at::cuda::getCurrentCUDAStream()), op);

  // dR[h, d, k] = Σ_{b,t} y_{t-1}[b, h, d] · dg_t[b, h, k], with y_{t-1} as the forward's MMA used it.
  const auto y0 = s0k.defined() ? s0k[0].view({p.B, 1, p.NH, p.DH}).to(cdt) : torch::zeros({p.B, 1, p.NH, p.DH}, dyk.options());
  const auto y_prev = torch::cat({y0, y.to(cdt).narrow(1, 0, p.S - 1)}, 1);  // (B, S, NH, DH)
  const auto dg = dgates.view({p.B, p.S, p.NH, 4 * p.DH});
  const auto dR = torch::einsum("bshd,bshk->hdk", {y_prev, dg.to(cdt)});
  const auto db = dgates.sum(std::vector<int64_t>{0, 1}).view({4 * p.NH * p.DH});
  return {dgates.to(wx.scalar_type()), dR.to(R.scalar_type()), db.to(b.scalar_type()),
          s0 ? ds0.to(s0->scalar_type()) : torch::Tensor()};
}

}  // namespace
}  // namespace xlstm::ops::detail

TORCH_LIBRARY_IMPL(xlstm, CUDA, m) {
  m.impl("slstm_fw", &xlstm::ops::detail::slstm_fw_cuda);
  m.impl("slstm_bw", &xlstm::ops::detail::slstm_bw_cuda);
}
