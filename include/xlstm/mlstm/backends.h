// The mLSTM cell in three interchangeable ATen formulations (xlstm-spec.md §2.2, §3, §6.5):
//
//   parallel   quadratic in S: the whole sequence is one chunk (memory O(S^2) per head);
//   chunkwise  chunks of `chunk_size` in parallel, a recurrence over chunk states (memory linear in S);
//   recurrent  one step per token.
//
// All three compute the same function and return the final state, so any of them can continue
// another: h_t = (q~_t^T C_t) / (max(|q~_t . n_t|, exp(-m_t)) + eps), q~ = q / sqrt(DHQK), with the
// exponential input gate and the sigmoid forget gate stabilised in log space by m.
//
// Shapes: q, k (B, NH, S, DHQK); v (B, NH, S, DHV); igate/fgate pre-activations (B, NH, S).
// State (mlstm_kernels convention, see state.h): C (B, NH, DHQK, DHV), n (B, NH, DHQK), m (B, NH, 1).
// An empty state means "no history": C = n = 0 and m = -inf, which reproduces the reference's
// parallel form exactly (its stabiliser is the row maximum of the gate matrix alone). The
// xLSTM-Large reference starts from m = 0 instead; pass `zero_state(...)` for that.
//
// Numerics: gates, stabilisers, normalisers and states are computed in fp32 (fp64 when the inputs
// are fp64, for gradient checks); h is returned in the dtype of q. Everything is differentiable.
#pragma once

#include <torch/torch.h>

#include <tuple>

#include "xlstm/state.h"

namespace xlstm {

// Default denominator epsilon of both families.
constexpr double kMlstmEps = 1e-6;

// C = n = 0, m = 0 (the xLSTM-Large convention for a fresh sequence), in fp32 unless `dtype` says else.
mLSTMState mlstm_zero_state(int64_t batch, int64_t num_heads, int64_t dhqk, int64_t dhv,
                            const torch::TensorOptions& options);

std::tuple<torch::Tensor, mLSTMState> mlstm_parallel(const torch::Tensor& q, const torch::Tensor& k,
                                                     const torch::Tensor& v, const torch::Tensor& igate,
                                                     const torch::Tensor& fgate, const mLSTMState& state = {},
                                                     double eps = kMlstmEps);

// Per-position values of the forward that the chunkwise kernels keep for their backward (B, NH, S):
// normalizer = max(|q~_t . n_t|, exp(-m_t)) with the sign of q~_t . n_t, stabilizer = m_t.
struct mLSTMForwardStats {
  torch::Tensor normalizer, stabilizer;
};

// Any S >= 1: full chunks are processed together, the remainder (S mod chunk_size) as one shorter chunk.
// When `stats` is given, it receives the per-position normaliser and stabiliser.
std::tuple<torch::Tensor, mLSTMState> mlstm_chunkwise(const torch::Tensor& q, const torch::Tensor& k,
                                                      const torch::Tensor& v, const torch::Tensor& igate,
                                                      const torch::Tensor& fgate, const mLSTMState& state = {},
                                                      int64_t chunk_size = 64, double eps = kMlstmEps,
                                                      mLSTMForwardStats* stats = nullptr);

std::tuple<torch::Tensor, mLSTMState> mlstm_recurrent(const torch::Tensor& q, const torch::Tensor& k,
                                                      const torch::Tensor& v, const torch::Tensor& igate,
                                                      const torch::Tensor& fgate, const mLSTMState& state = {},
                                                      double eps = kMlstmEps);

// One token: q, k (B, NH, DHQK), v (B, NH, DHV), gates (B, NH) -> h (B, NH, DHV) and the new state.
std::tuple<torch::Tensor, mLSTMState> mlstm_step(const torch::Tensor& q, const torch::Tensor& k,
                                                 const torch::Tensor& v, const torch::Tensor& igate,
                                                 const torch::Tensor& fgate, const mLSTMState& state = {},
                                                 double eps = kMlstmEps);

// Checks shapes of q/k/v/gates/state against each other; throws c10::Error naming the argument.
void check_mlstm_inputs(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& igate, const torch::Tensor& fgate, const mLSTMState& state);

}  // namespace xlstm
