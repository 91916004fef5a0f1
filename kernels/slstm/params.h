// Plain parameters and host entry points of the fused sLSTM CUDA kernels (no ATen, no CUDA types
// beyond the stream): src/ops/slstm_cuda.cu.cpp checks the tensors and fills SlstmParams.
//
// Layouts (B batch, S time, NH heads, DH head dim, H = NH·DH, gates g = i, f, z, o):
//   wx           [b, t, h, g, j] at wx + b*wx_sb + t*wx_st + h*wx_sh + g*wx_sg + j (j contiguous)
//   R            (NH, DH, 4·DH) contiguous, in the compute dtype (bf16, or fp32 for fp32 inputs)
//   bias         (NH, 4, DH) fp32
//   s0, state_last, dstate_last, ds0   (4, B, H) fp32: [y, c, n, m]
//   y, dy        (B, S, NH, DH) compute dtype, contiguous
//   gates        (B, S, NH, 4, DH) fp32: the gate pre-activations wx + R·y + b (forward cache)
//   dgates       like gates: their gradients (= dwx), written by the backward
//   states       (S, 3, B, H) fp32: c, n, m after each step (forward cache)
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace xlstm::kernels {

enum class SlstmDType { f32, bf16 };

struct SlstmParams {
  SlstmDType dtype = SlstmDType::f32;
  int B = 0, S = 0, NH = 0, DH = 0;

  // Launch shape chosen by slstm_launch_shape (all CTAs of one cluster serve one head and 16-row batch tile).
  int cluster = 1;  // CTAs per (head, batch tile); their hidden units are split between them
  int ksplit = 1;   // warps that share one group of 8 units, each taking a slice of the reduction

  const void* wx = nullptr;
  int64_t wx_sb = 0, wx_st = 0, wx_sh = 0, wx_sg = 0;
  const void* R = nullptr;
  const float* bias = nullptr;
  const float* s0 = nullptr;  // null: zeros

  // forward
  void* y = nullptr;
  float* state_last = nullptr;
  float* gates = nullptr;   // null: no cache (inference)
  float* states = nullptr;  // with gates

  // backward (reads gates, states, s0)
  const void* dy = nullptr;
  float* dgates = nullptr;
  const float* dstate_last = nullptr;  // null: zeros
  float* ds0 = nullptr;
};

struct SlstmLaunchShape {
  bool supported = false;  // false: no kernel for this head dim / device
  int cluster = 1, ksplit = 1;
};

// The launch shape for p's sizes and dtype on a device with clusters of up to max_cluster CTAs (1 below
// compute capability 9.0) and max_smem bytes of shared memory per block.
SlstmLaunchShape slstm_launch_shape(const SlstmParams& p, int max_cluster, size_t max_smem);

cudaError_t slstm_fw_cuda(const SlstmParams& p, cudaStream_t stream);
cudaError_t slstm_bw_cuda(const SlstmParams& p, cudaStream_t stream);

// Per-dtype launchers (slstm_bf16_{fw,bw}.cu, slstm_f32.cu).
template <class T, bool Backward>
cudaError_t launch_slstm(const SlstmParams& p, cudaStream_t stream);

}  // namespace xlstm::kernels
