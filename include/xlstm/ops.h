// The custom ops of the library (namespace `xlstm::` in the torch op registry) and their C++ entry
// points. Models call these functions; the dispatcher picks the implementation by device:
//   CPU       the ATen reference (mlstm/backends.h; the backward differentiates it with autograd);
//   CUDA      the kernels in kernels/mlstm/ (chunkwise forward/backward, step); head dims that are not
//             multiples of 64 in [64, 1024], dtypes other than fp32/fp16/bf16 and GPUs below compute
//             capability 8.0 fall back to the ATen reference with a one-time warning;
//   Autograd  mlstm_chunkwise_fw records a node whose backward calls mlstm_chunkwise_bw (with the chunk
//             states that mlstm_chunkwise_fw_cached kept when a gradient is needed).
//
// Schemas (shapes in comments; fp32 means float64 too when q is float64, which only the ATen path runs):
//
//   mlstm_chunkwise_fw(Tensor q, Tensor k, Tensor v, Tensor igate, Tensor fgate,
//                      Tensor? c0, Tensor? n0, Tensor? m0, int chunk_size, float eps)
//       -> (Tensor h, Tensor n_out, Tensor m_out, Tensor c_last, Tensor n_last, Tensor m_last)
//     q, k (B, NH, S, DHQK) and v (B, NH, S, DHV) in fp32, fp16 or bf16 (one dtype); igate, fgate
//     (B, NH, S) fp32 pre-activations; optional initial state c0 (B, NH, DHQK, DHV), n0 (B, NH, DHQK),
//     m0 (B, NH, 1) fp32, all three or none (none: no history, m0 = -inf). Any S >= 1.
//     h (B, NH, S, DHV) in q's dtype; n_out, m_out (B, NH, S) fp32: the normaliser
//     max(|q~.n_t|, exp(-m_t)) carrying the sign of q~.n_t, and the stabiliser m_t (what the backward
//     needs); the last state c_last, n_last, m_last fp32.
//     chunk_size: the chunk length of the ATen path; the CUDA kernels use it when it is 64, 128, 192 or
//     256 and 128 otherwise (the function computed is the same for every chunk length). On CUDA, fp16
//     inputs run the bf16 kernels (one rounding of the inputs to bf16): scaled intermediates of the
//     backward leave the fp16 range.
//
//   mlstm_chunkwise_fw_cached(the arguments of mlstm_chunkwise_fw)
//       -> (the outputs of mlstm_chunkwise_fw, Tensor chunk_states, Tensor chunk_n, Tensor chunk_m)
//     The forward for training: when the CUDA kernels run, also the state entering each of the kernels'
//     chunks, for mlstm_chunkwise_bw (which then skips recomputing them): chunk_states (B, NH, NC, DHQK,
//     DHV) in the compute dtype (bf16 for fp16 inputs), chunk_n (B, NH, NC, DHQK) fp32 and chunk_m
//     (B, NH, NC + 1) fp64 (the stabilisers before each chunk and at the end), NC = ceil(S / L) for the
//     kernels' chunk length L. Empty tensors on the ATen paths. Costs the memory of chunk_states
//     (S / L * DHQK * DHV elements per head, e.g. 1.07 GB at B8 NH8 S8192 DHQK256 DHV512 L128) for the
//     time of one recurrent pass in the backward. No autograd kernel of its own: mlstm_chunkwise_fw's
//     autograd kernel calls it when a gradient is needed.
//
//   mlstm_chunkwise_bw(Tensor dh, Tensor? dc_last, Tensor? dn_last, Tensor? dm_last,
//                      Tensor q, Tensor k, Tensor v, Tensor igate, Tensor fgate,
//                      Tensor? c0, Tensor? n0, Tensor? m0, Tensor n_out, Tensor m_out,
//                      int chunk_size, float eps, Tensor? chunk_states=None, Tensor? chunk_n=None,
//                      Tensor? chunk_m=None)
//       -> (Tensor dq, Tensor dk, Tensor dv, Tensor digate, Tensor dfgate, Tensor dc0, Tensor dn0, Tensor dm0)
//     dh like h; optional gradients of the last state (missing = 0); n_out, m_out from the forward; the
//     cache of mlstm_chunkwise_fw_cached for the same inputs and chunk_size, all three or none (empty
//     tensors count as none; the kernels then recompute the states).
//     dq, dk, dv in q's dtype, the rest fp32; dc0, dn0, dm0 are undefined without an initial state.
//     The gradients are exact, including the paths through the stabiliser m (which h depends on only
//     through eps) and through m_last.
//
//   mlstm_step(Tensor q, Tensor k, Tensor v, Tensor igate, Tensor fgate, Tensor c, Tensor n, Tensor m,
//              float eps) -> (Tensor h, Tensor c_new, Tensor n_new, Tensor m_new)
//     One token: q, k (B, NH, DHQK), v (B, NH, DHV), igate, fgate (B, NH) fp32; state c, n, m as above
//     (m = -inf for a fresh state). h (B, NH, DHV) in q's dtype; the new state fp32.
//   mlstm_step_(..., Tensor(a!) c, Tensor(b!) n, Tensor(c!) m, float eps) -> Tensor h
//     The same, updating c, n, m in place (generation loops and CUDA graphs without state copies).
//
// The step ops have no autograd kernel: use them for inference (the model does; training through
// single steps runs the differentiable ATen step).
//
// sLSTM (xlstm-spec.md §2.5; kernels in kernels/slstm/: one persistent kernel per direction, R on chip):
//
//   slstm_fw(Tensor wx, Tensor R, Tensor b, Tensor? s0, bool with_cache)
//       -> (Tensor y, Tensor state_last, Tensor gates, Tensor states)
//     wx (B, S, NH, 4, DH) gate pre-activations from the input, gates i, f, z, o (any strides; the
//     sLSTM cell passes a transposed view of its (B, S, 4, NH, DH) projection); R (NH, DH, 4*DH) in the
//     reference's CUDA layout (R[h, d, g*DH + j]: from y_{t-1}[h, d] to gate g of unit j); b (4*NH*DH)
//     laid out [h][g][j]; s0 (4, B, NH*DH) = [y, c, n, m] or none (zeros).
//     y (B, S, NH, DH) in wx's dtype; state_last (4, B, NH*DH) fp32 (fp64 on the ATen path for fp64).
//     gates (B, S, NH, 4, DH) and states (S, 3, B, NH*DH) fp32 are the kernel's caches for the
//     backward (pre-activations; c, n, m after each step), filled when with_cache is true and the CUDA
//     kernel ran; otherwise empty. The autograd kernel asks for them when a gradient is needed.
//     CUDA: head dims that are multiples of 16 up to 128 or of 32 up to 256 (up to 64 below compute
//     capability 9.0, which has no thread-block clusters); bf16 runs the tensor-core kernel (R used in
//     bf16), fp32 and fp16 the fp32 kernel (FMA; fp16 converts exactly); the states stay fp32. Other sizes, dtypes and GPUs below 8.0 run the ATen loop with a one-time warning.
//
//   slstm_bw(Tensor dy, Tensor? dstate_last, Tensor wx, Tensor R, Tensor b, Tensor? s0, Tensor y,
//            Tensor gates, Tensor states) -> (Tensor dwx, Tensor dR, Tensor db, Tensor ds0)
//     dy like y, optional dstate_last like state_last; the rest as given to / returned by slstm_fw.
//     dwx in wx's dtype (contiguous), dR in R's, db in b's, ds0 in s0's dtype (undefined without s0).
//     With empty caches the gradients come from autograd through the ATen loop (recomputed from wx).
//     The gradients are exact, including the paths through the stabiliser m (part of state_last).
//
// The output path of the NeurIPS mLSTM layer (xlstm-spec.md §2.3-2.4; kernel in
// kernels/mlstm/norm_skip_gate.cu: one pass instead of a transpose, a group norm and four pointwise ops):
//
//   mlstm_norm_skip_gate(Tensor h, Tensor c, Tensor z, Tensor norm_weight, Tensor skip, float eps)
//       -> (Tensor y, Tensor mean, Tensor rstd)
//     y = (GroupNorm_NH(h) * (1 + norm_weight) + skip * c) * silu(z): h (B, NH, S, DH) the cell output,
//     c (the SiLU of the convolution) and z (the gate half of the up-projection) (B, S, NH*DH) in h's
//     dtype (any strides), norm_weight (the MultiHeadLayerNorm's offset weight) and skip (NH*DH).
//     y (B, S, NH*DH) in h's dtype, computed in fp32 (fp64 for fp64 inputs, on the ATen path); mean and
//     rstd (B, S, NH) fp32 (fp64), the per-head statistics (biased variance) for the backward.
//     CUDA: fp32, fp16, bf16 with DH <= 1024; otherwise the ATen implementation with a one-time warning.
//   mlstm_norm_skip_gate_bw(Tensor dy, Tensor h, Tensor c, Tensor z, Tensor norm_weight, Tensor skip,
//                           Tensor mean, Tensor rstd) -> (dh, dc, dz, dnorm_weight, dskip)
//     dy like y; dh, dc, dz in h's dtype (contiguous), the parameter gradients in their dtypes (summed
//     over the tokens in a fixed order on CUDA: bit-reproducible).
//
// The input path of the NeurIPS mLSTM layer (xlstm-spec.md §2.1, §2.4; kernel in kernels/mlstm/conv_qkv.cu:
// one pass instead of a padding copy, a transposed convolution, a SiLU and three batched matmuls with copies):
//
//   mlstm_conv_qkv(Tensor x, Tensor conv_weight, Tensor? conv_bias, Tensor wq, Tensor wk, Tensor wv,
//                  Tensor? bq, Tensor? bk, Tensor? bv) -> (Tensor c, Tensor q, Tensor k, Tensor v)
//     c = silu(CausalConv1d(x)) from a zero state, q = Wq c, k = Wk c, v = Wv x with the block-diagonal
//     LinearHeadwiseExpand maps: x (B, S, D) (any strides), conv_weight (D, 1, K) and conv_bias (D) as
//     CausalConv1d holds them, wq, wk, wv (NB, BS, BS) with NB * BS = D, biases (D). c, q, k, v (B, S, D)
//     contiguous in x's dtype, computed in fp32 (fp64 for fp64 inputs), c rounded to x's dtype before it
//     feeds q and k (as the modules under autocast do). CUDA: fp32, fp16, bf16 with K = 4 and BS = 4 (the
//     reference's defaults); otherwise the ATen implementation with a one-time warning.
//   mlstm_conv_qkv_bw(Tensor? dc, Tensor dq, Tensor dk, Tensor dv, <the forward's arguments>)
//       -> (dx, dconv_weight, dconv_bias, dwq, dwk, dwv, dbq, dbk, dbv)
//     dc (may be none: zero), dq, dk, dv like x; dx in x's dtype, the parameter gradients in their dtypes,
//     undefined for absent biases (summed over the tokens in a fixed order on CUDA: bit-reproducible).
//
// The language-model loss (kernel in kernels/loss/cross_entropy.cu: one read of the logits forward and
// one backward, instead of an fp32 copy of the (tokens, vocabulary) block, a log_softmax whose output
// is kept, a gather and an argmax):
//
//   cross_entropy_rows(Tensor logits, Tensor targets, int ignore_index, bool grad_into_logits=False)
//       -> (Tensor loss, Tensor lse, Tensor predicted)
//     Per row r of logits (rows, vocab) (any row stride): lse = log Σ_j exp(logits[r, j]), loss =
//     lse − logits[r, targets[r]], predicted = the first index of the row's maximum; targets (rows)
//     int64. Rows whose target is ignore_index: loss 0, lse 0, predicted −1. loss and lse fp32 (fp64
//     for fp64 logits), predicted int64. Differentiable in logits through loss. A target outside
//     [0, vocab) that is not ignore_index: an error on the ATen path, a NaN loss for that row on CUDA
//     (where checking would wait for the device). CUDA: fp32, fp16, bf16; otherwise the ATen
//     implementation with a one-time warning. grad_into_logits: the backward writes dlogits over the
//     logits (cross_entropy_rows_bw_) instead of into a new (rows, vocab) block, for callers that hold
//     no other reference to the logits (the training step: 3.1 GiB less at the 164M model's B16); a
//     second backward through the same graph then fails autograd's check of the saved logits.
//   cross_entropy_rows_bw(Tensor dloss, Tensor logits, Tensor targets, Tensor lse, int ignore_index)
//       -> Tensor dlogits
//     dlogits[r, j] = dloss[r] · (exp(logits[r, j] − lse[r]) − [j = targets[r]]), 0 on ignored rows;
//     dloss and lse (rows) in the forward's loss dtype; dlogits contiguous in logits' dtype.
//   cross_entropy_rows_bw_(Tensor(a!) logits, Tensor dloss, Tensor targets, Tensor lse, int ignore_index)
//       -> Tensor(a!)
//     The same gradient written over logits (by the kernel itself where logits are contiguous).
//
// The blocks' pre-norm (xlstm-spec.md §1.3; kernel in kernels/norm/layer_norm.cu: one pass, and under
// autocast the output already in the dtype its Linear would cast it to):
//
//   layer_norm(Tensor x, Tensor? weight, Tensor? bias, float weight_offset, float eps,
//              ScalarType? out_dtype=None) -> (Tensor y, Tensor mean, Tensor rstd)
//     y = (x − mean) · rstd · (weight_offset + weight) + bias over the last dimension E of x, with
//     rstd = 1 / sqrt(biased variance + eps); the scale and bias cast to x's dtype first (as LayerNorm
//     applies them), absent ones skipped; computed in fp32 (fp64 for fp64 x). y in out_dtype: x's
//     dtype, or bf16 / fp16 for fp32 x. mean and rstd (x's leading dimensions) fp32 (fp64) for the
//     backward. CUDA: fp32, fp16, bf16 with E a multiple of 4 up to 2048; otherwise the ATen
//     implementation with a one-time warning.
//   layer_norm_bw(Tensor dy, Tensor x, Tensor? weight, Tensor? bias, float weight_offset, Tensor mean,
//                 Tensor rstd) -> (dx, dweight, dbias)
//     dy like y; dx in x's dtype; dweight, dbias in their parameters' dtypes, undefined for absent ones
//     (summed over the rows in a fixed order on CUDA: bit-reproducible).
#pragma once

#include <torch/torch.h>

#include <optional>
#include <tuple>

#include "xlstm/mlstm/backends.h"
#include "xlstm/state.h"

namespace xlstm::ops {

using OptTensor = std::optional<torch::Tensor>;

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor>
mlstm_chunkwise_fw(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                   const torch::Tensor& igate, const torch::Tensor& fgate, const OptTensor& c0 = std::nullopt,
                   const OptTensor& n0 = std::nullopt, const OptTensor& m0 = std::nullopt, int64_t chunk_size = 64,
                   double eps = kMlstmEps);

using MlstmFwCachedOut = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor,
                                    torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor>;
MlstmFwCachedOut mlstm_chunkwise_fw_cached(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                           const torch::Tensor& igate, const torch::Tensor& fgate,
                                           const OptTensor& c0 = std::nullopt, const OptTensor& n0 = std::nullopt,
                                           const OptTensor& m0 = std::nullopt, int64_t chunk_size = 64,
                                           double eps = kMlstmEps);

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor,
           torch::Tensor>
mlstm_chunkwise_bw(const torch::Tensor& dh, const OptTensor& dc_last, const OptTensor& dn_last,
                   const OptTensor& dm_last, const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                   const torch::Tensor& igate, const torch::Tensor& fgate, const OptTensor& c0, const OptTensor& n0,
                   const OptTensor& m0, const torch::Tensor& n_out, const torch::Tensor& m_out,
                   int64_t chunk_size = 64, double eps = kMlstmEps, const OptTensor& chunk_states = std::nullopt,
                   const OptTensor& chunk_n = std::nullopt, const OptTensor& chunk_m = std::nullopt);

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor> mlstm_step(
    const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& igate,
    const torch::Tensor& fgate, const torch::Tensor& c, const torch::Tensor& n, const torch::Tensor& m,
    double eps = kMlstmEps);

torch::Tensor mlstm_step_(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                          const torch::Tensor& igate, const torch::Tensor& fgate, torch::Tensor& c, torch::Tensor& n,
                          torch::Tensor& m, double eps = kMlstmEps);

// The cell as the model layers use it: (B, NH, S, D) inputs, gates in any float dtype (cast to the
// state dtype), an optional state (empty = no history) -> h and the last state. Differentiable.
std::tuple<torch::Tensor, mLSTMState> mlstm_chunkwise(const torch::Tensor& q, const torch::Tensor& k,
                                                      const torch::Tensor& v, const torch::Tensor& igate,
                                                      const torch::Tensor& fgate, const mLSTMState& state = {},
                                                      int64_t chunk_size = 64, double eps = kMlstmEps);

// One token for inference: q, k (B, NH, DHQK), v (B, NH, DHV), gates (B, NH) -> h and the new state.
std::tuple<torch::Tensor, mLSTMState> mlstm_step(const torch::Tensor& q, const torch::Tensor& k,
                                                 const torch::Tensor& v, const torch::Tensor& igate,
                                                 const torch::Tensor& fgate, const mLSTMState& state = {},
                                                 double eps = kMlstmEps);

// The model layers' dispatch (both families): with CUDA tensors (and the kernels built) the ops run the
// cell -- the step op for one token (`step`, q etc. (B, NH, 1, D)) when nothing needs gradients, else
// the chunkwise op, which covers any S; elsewhere std::nullopt, and the caller runs its ATen formulation.
std::optional<std::tuple<torch::Tensor, mLSTMState>> mlstm_on_device(
    const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& igate,
    const torch::Tensor& fgate, const mLSTMState& state, int64_t chunk_size, double eps, bool step);

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor> slstm_fw(
    const torch::Tensor& wx, const torch::Tensor& R, const torch::Tensor& b, const OptTensor& s0 = std::nullopt,
    bool with_cache = false);

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor> slstm_bw(
    const torch::Tensor& dy, const OptTensor& dstate_last, const torch::Tensor& wx, const torch::Tensor& R,
    const torch::Tensor& b, const OptTensor& s0, const torch::Tensor& y, const torch::Tensor& gates,
    const torch::Tensor& states);

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> mlstm_norm_skip_gate(const torch::Tensor& h,
                                                                             const torch::Tensor& c,
                                                                             const torch::Tensor& z,
                                                                             const torch::Tensor& norm_weight,
                                                                             const torch::Tensor& skip, double eps);

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor> mlstm_norm_skip_gate_bw(
    const torch::Tensor& dy, const torch::Tensor& h, const torch::Tensor& c, const torch::Tensor& z,
    const torch::Tensor& norm_weight, const torch::Tensor& skip, const torch::Tensor& mean, const torch::Tensor& rstd);

// The layers' dispatch: y of mlstm_norm_skip_gate when the op has a kernel for these tensors (CUDA,
// built with the kernels, one floating dtype for h, c and z), else std::nullopt and the caller runs its
// ATen modules (the same function). Differentiable.
std::optional<torch::Tensor> norm_skip_gate_on_device(const torch::Tensor& h, const torch::Tensor& c,
                                                      const torch::Tensor& z, const torch::Tensor& norm_weight,
                                                      const torch::Tensor& skip, double eps);

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor> mlstm_conv_qkv(
    const torch::Tensor& x, const torch::Tensor& conv_weight, const OptTensor& conv_bias, const torch::Tensor& wq,
    const torch::Tensor& wk, const torch::Tensor& wv, const OptTensor& bq = std::nullopt,
    const OptTensor& bk = std::nullopt, const OptTensor& bv = std::nullopt);

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor,
           torch::Tensor, torch::Tensor>
mlstm_conv_qkv_bw(const OptTensor& dc, const torch::Tensor& dq, const torch::Tensor& dk, const torch::Tensor& dv,
                  const torch::Tensor& x, const torch::Tensor& conv_weight, const OptTensor& conv_bias,
                  const torch::Tensor& wq, const torch::Tensor& wk, const torch::Tensor& wv, const OptTensor& bq,
                  const OptTensor& bk, const OptTensor& bv);

// The layers' dispatch: (c, q, k, v) of mlstm_conv_qkv on CUDA tensors (built with the kernels), else
// std::nullopt and the caller runs its modules. Undefined biases count as absent. Differentiable.
std::optional<std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor>> conv_qkv_on_device(
    const torch::Tensor& x, const torch::Tensor& conv_weight, const torch::Tensor& conv_bias, const torch::Tensor& wq,
    const torch::Tensor& wk, const torch::Tensor& wv, const torch::Tensor& bq, const torch::Tensor& bk,
    const torch::Tensor& bv);

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> cross_entropy_rows(const torch::Tensor& logits,
                                                                           const torch::Tensor& targets,
                                                                           int64_t ignore_index,
                                                                           bool grad_into_logits = false);

torch::Tensor cross_entropy_rows_bw(const torch::Tensor& dloss, const torch::Tensor& logits,
                                    const torch::Tensor& targets, const torch::Tensor& lse, int64_t ignore_index);

torch::Tensor& cross_entropy_rows_bw_(torch::Tensor& logits, const torch::Tensor& dloss, const torch::Tensor& targets,
                                      const torch::Tensor& lse, int64_t ignore_index);

// The loss's dispatch: (loss, predicted) of cross_entropy_rows on CUDA tensors (built with the kernels),
// else std::nullopt and the caller runs ATen's cross-entropy. Differentiable.
std::optional<std::tuple<torch::Tensor, torch::Tensor>> cross_entropy_on_device(const torch::Tensor& logits,
                                                                                const torch::Tensor& targets,
                                                                                int64_t ignore_index,
                                                                                bool grad_into_logits = false);

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> layer_norm(const torch::Tensor& x, const OptTensor& weight,
                                                                   const OptTensor& bias, double weight_offset,
                                                                   double eps,
                                                                   std::optional<torch::ScalarType> out_dtype = {});

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> layer_norm_bw(const torch::Tensor& dy, const torch::Tensor& x,
                                                                      const OptTensor& weight, const OptTensor& bias,
                                                                      double weight_offset, const torch::Tensor& mean,
                                                                      const torch::Tensor& rstd);

// The norms' dispatch: y of layer_norm on CUDA tensors (built with the kernels), else std::nullopt and
// the caller runs ATen's layer norm. Undefined parameters count as absent. Differentiable.
std::optional<torch::Tensor> layer_norm_on_device(const torch::Tensor& x, const torch::Tensor& weight,
                                                  const torch::Tensor& bias, double weight_offset, double eps,
                                                  torch::ScalarType out_dtype);

// The NeurIPS mLSTM cell with its gate projections (src/ops/mlstm_gated.cpp): i = w_i [q; k; v] + b_i,
// f = w_f [q; k; v] + b_f (w (NH, 3 Di), b (NH) or undefined; the pre-activations rounded to q's dtype
// as the Linear modules' are under autocast), then the chunkwise cell on the heads of q, k, v
// (B, S, Di) from a zero state: h (B, NH, S, Di / NH) and the last state. Differentiable as one
// function: no (B, S, 3 Di) concatenation, and the gates' share of dq, dk, dv is added in place. With
// keep_chunk_states (the default) the backward reads the chunk states the forward kept
// (mlstm_chunkwise_fw_cached: B NH ceil(S / chunk) DH^2 elements of q's dtype); without, it walks the
// chunks again to recompute them (one more pass of the recurrent kernel, for that memory).
std::tuple<torch::Tensor, mLSTMState> mlstm_gated_chunkwise(const torch::Tensor& q, const torch::Tensor& k,
                                                            const torch::Tensor& v, const torch::Tensor& w_i,
                                                            const torch::Tensor& b_i, const torch::Tensor& w_f,
                                                            const torch::Tensor& b_f, int64_t num_heads,
                                                            int64_t chunk_size, double eps,
                                                            bool keep_chunk_states = true);

// The NeurIPS cell's dispatch: mlstm_gated_chunkwise for CUDA tensors (built with the kernels), no
// initial state and S >= 2; else std::nullopt and the caller runs its modules.
std::optional<std::tuple<torch::Tensor, mLSTMState>> mlstm_gated_on_device(
    const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& w_i,
    const torch::Tensor& b_i, const torch::Tensor& w_f, const torch::Tensor& b_f, int64_t num_heads,
    const mLSTMState& state, int64_t chunk_size, double eps, bool keep_chunk_states = true);

// The recurrence as the sLSTM cell uses it: y (B, S, NH, DH) and the last state (4, B, NH*DH) for an
// optional initial state (undefined = zeros). Differentiable.
std::tuple<torch::Tensor, torch::Tensor> slstm(const torch::Tensor& wx, const torch::Tensor& R, const torch::Tensor& b,
                                               const torch::Tensor& s0 = {});

}  // namespace xlstm::ops
