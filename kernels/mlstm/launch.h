// Host entry points of the mLSTM CUDA kernels. The op bindings (src/ops/mlstm_cuda.cu.cpp) call the
// three functions at the bottom; the per-kernel launchers are instantiated once per input dtype in the
// *_{f32,bf16}.cu files (the step also *_f16.cu) so that the builds run in parallel.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "mlstm/params.h"

namespace xlstm::kernels {

// Sizes (in elements) of the scratch buffers a chunkwise call needs; see ChunkwiseParams.
struct ChunkwiseScratch {
  int64_t positions;  // BNH * NC * L   (gate_b, gate_ib, gate_cm, a_buf, dm_buf, xdot, rowdot, kst, kdk)
  int64_t chunks;     // BNH * NC       (chunk_g, chunk_amax)
  int64_t chunk_m;    // BNH * (NC + 1)
  int64_t states;     // BNH * NC * DQK * DHV  (states, dstates; input dtype)
  int64_t n_states;   // BNH * NC * DQK
  int64_t scores;     // BNH * NC * L * L      (pbuf, dsbuf; input dtype)
};
inline ChunkwiseScratch chunkwise_scratch(const ChunkwiseParams& p) {
  const int64_t bh = static_cast<int64_t>(p.B) * p.NH, nc = p.NC;
  return {bh * nc * p.L, bh * nc, bh * (nc + 1), bh * nc * p.DQK * p.DHV, bh * nc * p.DQK, bh * nc * p.L * p.L};
}

// Forward: h, n_out, m_out and (where the pointers are set) the last state.
cudaError_t mlstm_chunkwise_fw_cuda(const ChunkwiseParams& p, cudaStream_t stream);
// Backward: dq, dk, dv, di, df and (with an initial state) dc0, dn0, dm0.
cudaError_t mlstm_chunkwise_bw_cuda(const ChunkwiseParams& p, cudaStream_t stream);
// One generation step.
cudaError_t mlstm_step_cuda(const StepParams& p, cudaStream_t stream);
// Whether the chunkwise op can run the wgmma kernels (bf16, DQK 128 or 256, L <= 128, a device of compute
// capability major cc_major = 9 whose opt-in shared memory per block, optin_smem bytes, fits them, and
// sm_90a code in the build): the forward's fused state walk and output (fused_forward.cuh), which needs no
// chunk states in global memory unless p.states is set (the op's cache), and the backward's walk of the
// state gradient (dstate_walk.cuh); the binding records the answer in p.wgmma.
bool chunkwise_wgmma(const ChunkwiseParams& p, int cc_major, size_t optin_smem);

// The products of the chunkwise algorithm that chunk_gemm computes (see chunk_gemm.cuh): launch_chunk_gemm
// runs h or xdot, launch_chunk_gemm_grads dq, dk and dv in one launch.
enum class GemmKind { h, dq, dk, dv, xdot };

template <class T>
void launch_recurrent(const ChunkwiseParams& p, bool backward, cudaStream_t stream);
template <class T>
void launch_scores(const ChunkwiseParams& p, bool backward, cudaStream_t stream);
template <class T>
void launch_chunk_gemm(const ChunkwiseParams& p, GemmKind kind, cudaStream_t stream);
template <class T>
void launch_chunk_gemm_grads(const ChunkwiseParams& p, cudaStream_t stream);
template <class T>
void launch_step(const StepParams& p, cudaStream_t stream);
template <class T>
void launch_norm_walk(const ChunkwiseParams& p, bool backward, cudaStream_t stream);
template <class T>
void launch_fused_forward(const ChunkwiseParams& p, cudaStream_t stream);
template <class T>
void launch_dstate_walk(const ChunkwiseParams& p, cudaStream_t stream);
void launch_gate_prep(const ChunkwiseParams& p, cudaStream_t stream);
void launch_gate_grad(const ChunkwiseParams& p, cudaStream_t stream);

}  // namespace xlstm::kernels
