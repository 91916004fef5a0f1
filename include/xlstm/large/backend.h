// The mLSTM backend of xLSTM-Large (mlstm_kernels' mLSTMBackend, xlstm-spec.md §6.5): how a layer's
// q, k, v and gate pre-activations become h and the final state, in one of three modes:
//
//   train               one chunkwise pass over the whole sequence with `chunk_size` (any S: a last
//                       shorter chunk takes the remainder); optional initial state; the final state
//                       only when return_last_states (else an empty state; the reference crashes here).
//   train_with_padding  zero-pads q, k, v and the gates to a multiple of `chunk_size` (what fixed-chunk
//                       kernels need), one chunkwise pass, h truncated to S; never returns a state.
//   inference           always returns the state. S = 1: one step. S > 1: chunkwise over
//                       ⌊S / c⌋·c tokens for c = chunk_size, chunk_size/2, ... >= 16 (state chained),
//                       then the remainder (< 16) by recurrent steps, e.g. S = 150, chunk 64:
//                       128 + 16 + 6 steps.
//
// Every mode starts a missing state from C = n = 0, m = 0 (the xLSTM-Large convention) and keeps the
// state in fp32 (fp64 for fp64 inputs) whatever the dtype of q, k, v; h comes back in q's dtype.
//
// All kernel work goes through run_mlstm_kernel(), the one place where a kernel is chosen: the
// ATen functions of xlstm/mlstm/backends.h, and on CUDA the custom ops of xlstm/ops.h.
#pragma once

#include <torch/torch.h>

#include <string>
#include <tuple>
#include <vector>

#include "xlstm/config.h"
#include "xlstm/state.h"

namespace xlstm::large {

enum class BackendMode { train, train_with_padding, inference };

// "train" | "train_with_padding" | "inference"; anything else is a ConfigError on `mode`.
BackendMode backend_mode(const std::string& name);

// The three kernel kinds of mlstm_kernels: chunkwise (or parallel), sequence (a loop of steps), step.
enum class KernelKind { chunkwise, sequence, step };

// The backend fields of xLSTMLargeConfig that the computation depends on.
struct mLSTMBackendConfig {
  BackendMode mode = BackendMode::train;
  int64_t chunk_size = 64;
  bool return_last_states = true;
  double eps = 1e-6;
  bool parallel_kernel = false;  // chunkwise_kernel is a "parallel--*" name: a chunk spans the whole call

  // Throws ConfigError for the sigmoid-input-gate kernels ("*siging*"), which compute another cell.
  static mLSTMBackendConfig from(const xLSTMLargeConfig& config);
};

// The single kernel dispatch point. q, k (B, NH, S, DHQK), v (B, NH, S, DHV), igate/fgate (B, NH, S)
// pre-activations, state as in state.h (never empty here). chunkwise: chunks of `chunk_size`
// (the whole call for parallel kernels); sequence: S steps; step: S must be 1.
std::tuple<torch::Tensor, mLSTMState> run_mlstm_kernel(KernelKind kind, const mLSTMBackendConfig& config,
                                                       const torch::Tensor& q, const torch::Tensor& k,
                                                       const torch::Tensor& v, const torch::Tensor& igate,
                                                       const torch::Tensor& fgate, const mLSTMState& state,
                                                       int64_t chunk_size);

// One kernel call of the inference mode: positions [begin, end) by `kind`, in chunks of `chunk_size`.
struct KernelCall {
  KernelKind kind;
  int64_t begin, end, chunk_size;
};

// The kernel calls of the inference mode for S >= 1 positions, in order (see the top of this file):
// S = 150, chunk_size 64 -> chunkwise [0, 128) by 64, chunkwise [128, 144) by 16, sequence [144, 150).
std::vector<KernelCall> inference_schedule(int64_t S, int64_t chunk_size);

// mLSTMBackend.forward in `mode` (see the top of this file). h (B, NH, S, DHV) and the final state
// (empty when the mode returns none).
std::tuple<torch::Tensor, mLSTMState> mlstm_backend(const mLSTMBackendConfig& config, BackendMode mode,
                                                    const torch::Tensor& q, const torch::Tensor& k,
                                                    const torch::Tensor& v, const torch::Tensor& igate,
                                                    const torch::Tensor& fgate, const mLSTMState& state = {});

}  // namespace xlstm::large
