// The ATen implementations of the mLSTM ops: the CPU kernels, and the CUDA kernels' fallback for
// shapes, dtypes and GPUs they do not cover. Arguments as in include/xlstm/ops.h.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <tuple>

#include "xlstm/state.h"

namespace xlstm::ops::detail {

using OptTensor = std::optional<torch::Tensor>;
using FwOut = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor>;
using BwOut = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor,
                         torch::Tensor, torch::Tensor>;
using StepOut = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor>;
using FwCachedOut = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor,
                               torch::Tensor, torch::Tensor, torch::Tensor, torch::Tensor>;

FwOut reference_chunkwise_fw(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const torch::Tensor& igate, const torch::Tensor& fgate, const OptTensor& c0,
                             const OptTensor& n0, const OptTensor& m0, int64_t chunk_size, double eps);

// reference_chunkwise_fw's outputs and an empty cache (the ATen backward recomputes everything).
FwCachedOut reference_chunkwise_fw_cached(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                          const torch::Tensor& igate, const torch::Tensor& fgate, const OptTensor& c0,
                                          const OptTensor& n0, const OptTensor& m0, int64_t chunk_size, double eps);

// Gradients of reference_chunkwise_fw by autograd through the ATen formulation (n_out, m_out and the
// cache of the forward are checked, not needed).
BwOut reference_chunkwise_bw(const torch::Tensor& dh, const OptTensor& dc_last, const OptTensor& dn_last,
                             const OptTensor& dm_last, const torch::Tensor& q, const torch::Tensor& k,
                             const torch::Tensor& v, const torch::Tensor& igate, const torch::Tensor& fgate,
                             const OptTensor& c0, const OptTensor& n0, const OptTensor& m0,
                             const torch::Tensor& n_out, const torch::Tensor& m_out, int64_t chunk_size, double eps,
                             const OptTensor& chunk_states, const OptTensor& chunk_n, const OptTensor& chunk_m);

// The outputs of a forward with an empty cache.
FwCachedOut without_cache(const FwOut& out);

StepOut reference_step(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& igate, const torch::Tensor& fgate, const torch::Tensor& c,
                       const torch::Tensor& n, const torch::Tensor& m, double eps);

torch::Tensor reference_step_(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& igate, const torch::Tensor& fgate, torch::Tensor& c,
                              torch::Tensor& n, torch::Tensor& m, double eps);

// The same without the argument checks, for a caller that has run them (the CUDA kernels' fallback);
// `state` is the initial state that optional_state made of c0, n0, m0.
FwOut aten_chunkwise_fw(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& igate, const torch::Tensor& fgate, const mLSTMState& state,
                        int64_t chunk_size, double eps);
BwOut aten_chunkwise_bw(const torch::Tensor& dh, const OptTensor& dc_last, const OptTensor& dn_last,
                        const OptTensor& dm_last, const torch::Tensor& q, const torch::Tensor& k,
                        const torch::Tensor& v, const torch::Tensor& igate, const torch::Tensor& fgate,
                        const mLSTMState& state, int64_t chunk_size, double eps);
StepOut aten_step(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& igate,
                  const torch::Tensor& fgate, const torch::Tensor& c, const torch::Tensor& n, const torch::Tensor& m,
                  double eps);
torch::Tensor aten_step_(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                         const torch::Tensor& igate, const torch::Tensor& fgate, torch::Tensor& c, torch::Tensor& n,
                         torch::Tensor& m, double eps);

}  // namespace xlstm::ops::detail
