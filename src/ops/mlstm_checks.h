// Argument checks of the mLSTM ops, shared by every implementation (CPU, CUDA, fallback): devices,
// dtypes and shapes, each message naming the argument and what it got.
#pragma once

#include <torch/torch.h>

#include <optional>

#include "xlstm/state.h"

namespace xlstm::ops::detail {

using OptTensor = std::optional<torch::Tensor>;

// The initial state as an mLSTMState (empty when none was given); checks "all three or none".
mLSTMState optional_state(const char* op, const OptTensor& c0, const OptTensor& n0, const OptTensor& m0);

void check_chunkwise_fw_args(const char* op, const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const torch::Tensor& igate, const torch::Tensor& fgate, const mLSTMState& state,
                             int64_t chunk_size, double eps);

// The forward's checks plus those of the backward-only arguments.
void check_chunkwise_bw_args(const char* op, const torch::Tensor& dh, const OptTensor& dc_last,
                             const OptTensor& dn_last, const OptTensor& dm_last, const torch::Tensor& q,
                             const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& igate,
                             const torch::Tensor& fgate, const mLSTMState& state,
                             const torch::Tensor& n_out, const torch::Tensor& m_out, int64_t chunk_size, double eps);

// optional_state and the checks of the chunkwise ops in one call, as their kernels begin; returns the
// initial state.
mLSTMState checked_fw_state(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            const torch::Tensor& igate, const torch::Tensor& fgate, const OptTensor& c0,
                            const OptTensor& n0, const OptTensor& m0, int64_t chunk_size, double eps);
mLSTMState checked_bw_state(const torch::Tensor& dh, const OptTensor& dc_last, const OptTensor& dn_last,
                            const OptTensor& dm_last, const torch::Tensor& q, const torch::Tensor& k,
                            const torch::Tensor& v, const torch::Tensor& igate, const torch::Tensor& fgate,
                            const OptTensor& c0, const OptTensor& n0, const OptTensor& m0, const torch::Tensor& n_out,
                            const torch::Tensor& m_out, int64_t chunk_size, double eps);

// The cache arguments of mlstm_chunkwise_bw: all three or none (an empty tensor counts as none) and on
// q's device; returns whether it is given. Shapes and dtypes are the kernels' to check (they define them).
bool check_chunk_cache(const char* op, const torch::Tensor& q, const OptTensor& chunk_states, const OptTensor& chunk_n,
                       const OptTensor& chunk_m);

void check_step_args(const char* op, const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const torch::Tensor& igate, const torch::Tensor& fgate, const torch::Tensor& c,
                     const torch::Tensor& n, const torch::Tensor& m, double eps);

}  // namespace xlstm::ops::detail
