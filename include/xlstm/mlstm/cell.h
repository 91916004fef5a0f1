// mLSTMCell of the NeurIPS family (xlstm-spec.md §2.3): gates from concat(q, k, v), the cell
// recurrence (backends.h), and the per-head layer norm.
#pragma once

#include <torch/torch.h>

#include <tuple>

#include "xlstm/components/norms.h"
#include "xlstm/config.h"
#include "xlstm/state.h"

namespace xlstm {

// Which formulation a call uses: "auto" picks the parallel form while S <= max(context_length,
// chunk_size), the chunkwise form beyond (memory linear in S), and the step form for S == 1.
enum class mLSTMBackend { parallel, chunkwise, recurrent, step };
mLSTMBackend select_mlstm_backend(const std::string& backend, int64_t seq_len, int64_t context_length,
                                  int64_t chunk_size);

// Runs the selected formulation on (B, NH, S, D) inputs.
std::tuple<torch::Tensor, mLSTMState> run_mlstm_backend(mLSTMBackend backend, const torch::Tensor& q,
                                                        const torch::Tensor& k, const torch::Tensor& v,
                                                        const torch::Tensor& igate, const torch::Tensor& fgate,
                                                        const mLSTMState& state, int64_t chunk_size, double eps);

class mLSTMCellImpl : public torch::nn::Module {
 public:
  explicit mLSTMCellImpl(const mLSTMLayerConfig& config);

  // q, k, v (B, S, Di) -> h (B, S, Di) and the final cell state.
  std::tuple<torch::Tensor, mLSTMState> forward(const torch::Tensor& q, const torch::Tensor& k,
                                                const torch::Tensor& v, const mLSTMState& state = {});
  // The same before the per-head norm: h (B, NH, S, DH) (forward = outnorm(recurrence(...))).
  std::tuple<torch::Tensor, mLSTMState> recurrence(const torch::Tensor& q, const torch::Tensor& k,
                                                   const torch::Tensor& v, const mLSTMState& state = {});
  void reset_parameters();

  mLSTMLayerConfig config;
  // Training on CUDA: whether the backward reads the chunk states the forward kept (the default) or
  // recomputes them, for memory (ops::mlstm_gated_chunkwise; xLSTMBlockStack::recompute_chunk_states).
  bool keep_chunk_states = true;
  torch::nn::Linear igate{nullptr}, fgate{nullptr};
  MultiHeadLayerNorm outnorm{nullptr};
};
TORCH_MODULE(mLSTMCell);

}  // namespace xlstm
