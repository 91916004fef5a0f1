// Plain parameter structs of the mLSTM CUDA kernels (no ATen, no CUDA types): the op bindings in
// src/ops/ check the tensors and fill these; the kernels and launchers in kernels/mlstm/ see nothing else.
//
// Layout conventions (see include/xlstm/ops.h for the op schemas):
//   q, k (B, NH, S, DQK), v / h / dh (B, NH, S, DHV): innermost dimension contiguous, the other three
//   strided (SeqTensor); gates (B, NH, S) fp32 contiguous; states fp32 contiguous: C (B, NH, DQK, DHV),
//   n (B, NH, DQK), m (B, NH). "bh" below is b * NH + h.
//   Chunks have length L (a multiple of 64, at most 256); NC = ceil(S / L); positions t >= S of the last
//   chunk are padding (zero inputs, log forget gate 0, input gate -inf) and are never stored.
#pragma once

#include <cstdint>

#include "common/dtype.h"

namespace xlstm::kernels {

// A (B, NH, S, D) tensor with contiguous last dimension: element (b, h, t, d) at
// ptr + b * sb + h * sh + t * ss + d (in elements).
struct SeqTensor {
  void* ptr = nullptr;
  int64_t sb = 0, sh = 0, ss = 0;
};

constexpr int kMaxChunk = 256;

struct ChunkwiseParams {
  DType dtype = DType::f32;
  int B = 0, NH = 0, S = 0, DQK = 0, DHV = 0, L = 0, NC = 0;
  float eps = 1e-6f, scale = 1.f;  // scale = 1 / sqrt(DQK)

  // inputs
  SeqTensor q, k, v;
  const float *igate = nullptr, *fgate = nullptr;
  const float *c0 = nullptr, *n0 = nullptr, *m0 = nullptr;  // optional initial state

  // forward outputs (in the backward's recomputation c_last and n_last are scratch, m_last null)
  SeqTensor h;
  float *n_out = nullptr, *m_out = nullptr;  // (B, NH, S): signed normaliser, stabiliser
  float *c_last = nullptr, *n_last = nullptr, *m_last = nullptr;

  // backward inputs: dh; optional gradients of the last state; the forward's n_out, m_out (fields above)
  SeqTensor dh;
  const float *dc_last = nullptr, *dn_last = nullptr, *dm_last = nullptr;
  // backward outputs (dc0/dn0/dm0 only with an initial state)
  SeqTensor dq, dk, dv;
  float *di = nullptr, *df = nullptr, *dc0 = nullptr, *dn0 = nullptr, *dm0 = nullptr;

  // backward: states, n_states and chunk_m already hold the forward's values (the op's cache), so the
  // states are not recomputed
  bool states_ready = false;
  // run the sm_90a wgmma kernels: the forward's fused state walk and output, the backward's walk of the
  // state gradient (the binding sets it from chunkwise_wgmma; a forward with it needs no chunk states
  // unless it keeps them)
  bool wgmma = false;

  // scratch, allocated by the binding (sizes in launch.h's ChunkwiseScratch); states, n_states and
  // chunk_m are outputs of a forward that keeps them for the backward
  // gate values in fp64: their rounding would otherwise set the accuracy of every gate weight
  double *gate_b = nullptr, *gate_ib = nullptr, *gate_cm = nullptr;  // (BNH, NC*L)
  double *chunk_g = nullptr, *chunk_amax = nullptr;                   // (BNH, NC)
  double* chunk_m = nullptr;                                          // (BNH, NC+1)
  void* states = nullptr;                                            // (BNH, NC, DQK, DHV) input dtype, or
                                                                     // null: a fused forward without cache
  float* n_states = nullptr;                                         // (BNH, NC, DQK)
  void* pbuf = nullptr;                                              // (BNH, NC, L, L) input dtype
  // backward only
  void* dstates = nullptr;                                           // (BNH, NC, DQK, DHV)
  float* dn_states = nullptr;                                        // (BNH, NC, DQK)
  void* dsbuf = nullptr;                                             // (BNH, NC, L, L)
  float *a_buf = nullptr, *dm_buf = nullptr;                         // (BNH, NC*L)
  // fp64 sums (zeroed by the launcher, see gates.cu): per position the inter-chunk part
  // q_i . (C_{k-1} dh_i) of dh . (h * den), the forget-gate sums, k . dk(state) and k . dk; per chunk
  // D_k; per head <dC0, C0> + <dn0, n0>
  double *xdot = nullptr, *rowdot = nullptr, *kst = nullptr, *kdk = nullptr;  // (BNH, NC*L)
  double* dchunk = nullptr;                                          // (BNH, NC)
  double* c0dot = nullptr;                                           // (BNH)
};

struct StepParams {
  DType dtype = DType::f32;
  int B = 0, NH = 0, DQK = 0, DHV = 0;
  float eps = 1e-6f, scale = 1.f;
  const void *q = nullptr, *k = nullptr, *v = nullptr;  // (B, NH, D) contiguous, input dtype
  const float *igate = nullptr, *fgate = nullptr;       // (B, NH)
  const float *c = nullptr, *n = nullptr, *m = nullptr; // state in
  void* h = nullptr;                                    // (B, NH, DHV) input dtype
  float *c_new = nullptr, *n_new = nullptr, *m_new = nullptr;  // c_new may equal c (in place); n_new, m_new may not alias n, m
};

}  // namespace xlstm::kernels
