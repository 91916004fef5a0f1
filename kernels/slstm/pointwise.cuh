// The sLSTM pointwise update of one hidden unit (xlstm-spec.md §2.5) and its exact derivative, as the
// ATen reference (src/slstm/slstm_reference.cpp) differentiated by autograd computes it: the
// stabiliser m is a real output (it is part of the returned state), min(·, 1) passes the gradient
// where its argument is <= 1, and a tie of max(ī, lfm) splits the gradient in halves.
// Fast = true (the bf16 kernels) uses the hardware approximations of exp, log, tanh and division
// (relative errors ~1e-6, tanh ~5e-4, far below bf16's rounding); fp32 keeps the exact library calls.
#pragma once

#include <cmath>

#include "common/device.cuh"

namespace xlstm::kernels {

template <bool Fast>
struct SlstmMath {
  static __device__ __forceinline__ float exp(float x) { return Fast ? __expf(x) : expf(x); }
  static __device__ __forceinline__ float div(float a, float b) { return Fast ? __fdividef(a, b) : a / b; }
  static __device__ __forceinline__ float sigmoid(float x) { return div(1.f, 1.f + exp(-x)); }
  static __device__ __forceinline__ float logsigmoid(float x) {
    return Fast ? fminf(x, 0.f) - __logf(1.f + __expf(-fabsf(x))) : kernels::logsigmoid(x);
  }
  static __device__ __forceinline__ float tanh(float x) {
    if constexpr (Fast) {
      float y;
      asm("tanh.approx.f32 %0, %1;" : "=f"(y) : "f"(x));
      return y;
    } else {
      return tanhf(x);
    }
  }
};

// Raw gate pre-activations of one unit (wx + R·y + b).
struct SlstmGates {
  float i, f, z, o;
};

// One step: (c, n, m) from the previous step to the new ones; returns y.
template <bool Fast>
__device__ __forceinline__ float slstm_step_unit(const SlstmGates& g, float& c, float& n, float& m) {
  using M = SlstmMath<Fast>;
  const float lfm = m + M::logsigmoid(g.f);
  const float m_new = n == 0.f ? g.i : fmaxf(g.i, lfm);
  const float ig = fminf(M::exp(g.i - m_new), 1.f);
  const float fg = fminf(M::exp(lfm - m_new), 1.f);
  const float og = fminf(M::sigmoid(g.o), 1.f);
  c = fg * c + ig * M::tanh(g.z);
  n = fg * n + ig;
  m = m_new;
  return M::div(og * c, n);
}

// Gradient of one step. In: the gates and the previous state (c, n, m); dy and the gradients (dc, dn,
// dm) of the new state. Out: the gate gradients (returned) and, in dc, dn, dm, the gradients of the
// previous state.
template <bool Fast>
__device__ __forceinline__ SlstmGates slstm_step_unit_backward(const SlstmGates& g, float c, float n, float m,
                                                               float dy, float& dc, float& dn, float& dm) {
  using M = SlstmMath<Fast>;
  const float lfm = m + M::logsigmoid(g.f);
  const bool fresh = n == 0.f;
  const float m_new = fresh ? g.i : fmaxf(g.i, lfm);
  const float ie = M::exp(g.i - m_new), fe = M::exp(lfm - m_new);
  const float ig = fminf(ie, 1.f), fg = fminf(fe, 1.f);
  const float sg = M::sigmoid(g.o), og = fminf(sg, 1.f);
  const float zv = M::tanh(g.z);
  const float c_new = fg * c + ig * zv, n_new = fg * n + ig;

  const float inv_n = M::div(1.f, n_new);
  const float dc_tot = dc + dy * og * inv_n;
  const float dn_tot = dn - dy * og * c_new * inv_n * inv_n;  // y = og c_new / n_new
  SlstmGates d;
  d.o = sg <= 1.f ? dy * c_new * inv_n * sg * (1.f - sg) : 0.f;
  d.z = dc_tot * ig * (1.f - zv * zv);
  const float d_ie = ie <= 1.f ? (dc_tot * zv + dn_tot) * ie : 0.f;     // into (ī - m_new)
  const float d_fe = fe <= 1.f ? (dc_tot * c + dn_tot * n) * fe : 0.f;  // into (lfm - m_new)
  const float dm_new = dm - d_ie - d_fe;
  float di = d_ie, dlfm = d_fe;
  if (fresh || g.i > lfm) {
    di += dm_new;
  } else if (g.i < lfm) {
    dlfm += dm_new;
  } else {
    di += 0.5f * dm_new;
    dlfm += 0.5f * dm_new;
  }
  d.i = di;
  d.f = dlfm * M::sigmoid(-g.f);
  dc = dc_tot * fg;
  dn = dn_tot * fg;
  dm = dlfm;
  return d;
}

}  // namespace xlstm::kernels
