// The sLSTM recurrence in plain ATen: a loop over time, differentiable by autograd. It is the CPU
// implementation of the op and the ground truth for the fused kernels (xlstm-spec.md §2.5).
//
// Layouts (B batch, S time, NH heads, DH head dim, H = NH·DH, gates g in the order i, f, z, o):
//   wx  (B, S, NH, 4, DH)  gate pre-activations from the input, wx[b, t, h, g, j]; any strides.
//   R   (NH, DH, 4·DH)     recurrent kernel in the reference's CUDA layout ("_recurrent_kernel_"):
//                          R[h, d, g·DH + j] is the weight from y_{t-1}[h, d] to gate g, unit j of head h.
//   b   (NH·4·DH)          bias in the CUDA layout ("_bias_"): b[h·4·DH + g·DH + j].
//   s0  (4, B, H)          initial state [y, c, n, m] (unit index h·DH + j), or undefined for zeros.
// Returns y (B, S, NH, DH) in wx's dtype and the state after the last step (4, B, H).
//
// Per step, with raw_g = wx_g + Σ_d y_{t-1}[h, d]·R[h, d, g·DH + j] + b_g:
//   lfm = m_{t-1} + logσ(f̄);  m_t = ī where n_{t-1} == 0, else max(ī, lfm)
//   i' = min(exp(ī - m_t), 1);  f' = min(exp(lfm - m_t), 1);  o = min(σ(ō), 1);  zv = tanh(z̄)
//   c_t = f'·c_{t-1} + i'·zv;  n_t = f'·n_{t-1} + i';  y_t = o·c_t / n_t
// The n == 0 test is per element, as in the reference's CUDA kernel; its vanilla backend tests the
// whole state tensor at once. Both agree whenever n is zero everywhere or nowhere, in particular from
// a zero initial state. No forward clipping (the CUDA kernel's gradient_recurrent_clipval) is applied.
//
// Precision: all state math runs in fp32 (fp64 when any input is fp64), whatever the input dtypes;
// the returned state has that dtype.
#pragma once

#include <torch/torch.h>

#include <tuple>

namespace xlstm {

std::tuple<torch::Tensor, torch::Tensor> slstm_forward_reference(const torch::Tensor& wx, const torch::Tensor& R,
                                                                  const torch::Tensor& b, const torch::Tensor& s0);

}  // namespace xlstm
