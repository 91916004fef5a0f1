// The launch sequences of the chunkwise mLSTM (kernels.md §1.2-1.3) and the step, dispatched on the
// input dtype.
//   forward:  gate_prep -> recurrent (chunk states, last state) -> scores (P, normaliser) -> h, or where
//             the wgmma kernels apply: gate_prep -> norm_walk (n, m) -> scores -> fused (C walk and h)
//   backward: gate_prep -> recurrent (states again, unless the forward kept them) -> xdot (q . C dh)
//             -> scores (P', dS, a, dm, intra gate sums) -> recurrent in reverse (dC states, dC0,
//             per-chunk gate sums) -> dq, dk, dv (one launch) -> gate_grad (di, df, dm0), or where the
//             wgmma kernels apply: ... -> dstate_walk (dC, xdot) -> scores -> norm_walk in reverse (dn)
//             -> dq, ...
// Between the two the forward's h, n_out and m_out are kept, and for training (the op's cache) the
// chunk states C_{k-1}, n_{k-1} and the stabilisers m_k, which saves the backward the recurrent walk.
#include "mlstm/launch.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <type_traits>

namespace xlstm::kernels {
namespace {

template <class T>
void forward(const ChunkwiseParams& p, cudaStream_t stream) {
  launch_gate_prep(p, stream);
  if constexpr (!std::is_same<T, float>::value) {
    if (p.wgmma) {
      launch_norm_walk<T>(p, /*backward=*/false, stream);
      launch_scores<T>(p, /*backward=*/false, stream);
      launch_fused_forward<T>(p, stream);
      return;
    }
  }
  launch_recurrent<T>(p, /*backward=*/false, stream);
  launch_scores<T>(p, /*backward=*/false, stream);
  launch_chunk_gemm<T>(p, GemmKind::h, stream);
}

// xdot (q . C dh, the scores kernel's input), then the scores (P', dS, a, dm, intra gate sums), and the
// walk of the state gradient (dC and dn states, dC0, dn0, per-chunk gate sums): with wgmma the dC walk
// gives xdot too and goes first, dn walks after the scores (it needs a).
template <class T>
void scores_and_state_gradient(const ChunkwiseParams& p, cudaStream_t stream) {
  if constexpr (!std::is_same<T, float>::value) {
    if (p.wgmma) {
      launch_dstate_walk<T>(p, stream);
      launch_scores<T>(p, /*backward=*/true, stream);
      launch_norm_walk<T>(p, /*backward=*/true, stream);
      return;
    }
  }
  launch_chunk_gemm<T>(p, GemmKind::xdot, stream);
  launch_scores<T>(p, /*backward=*/true, stream);
  launch_recurrent<T>(p, /*backward=*/true, stream);
}

template <class T>
void backward(const ChunkwiseParams& p, cudaStream_t stream) {
  const ChunkwiseScratch sizes = chunkwise_scratch(p);
  const size_t heads = static_cast<size_t>(p.B) * p.NH;
  for (double* sum : {p.xdot, p.rowdot, p.kst, p.kdk})
    cudaMemsetAsync(sum, 0, sizes.positions * sizeof(double), stream);
  cudaMemsetAsync(p.dchunk, 0, sizes.chunks * sizeof(double), stream);
  cudaMemsetAsync(p.c0dot, 0, heads * sizeof(double), stream);
  launch_gate_prep(p, stream);
  if (!p.states_ready) launch_recurrent<T>(p, /*backward=*/false, stream);  // (no last-state outputs in p)
  scores_and_state_gradient<T>(p, stream);
  launch_chunk_gemm_grads<T>(p, stream);
  launch_gate_grad(p, stream);
}

}  // namespace

// fp16 inputs run the chunkwise kernels in bf16 (the binding converts them: scaled intermediates such as
// dS or the dC states leave the fp16 range); only the step has an fp16 kernel.
cudaError_t mlstm_chunkwise_fw_cuda(const ChunkwiseParams& p, cudaStream_t stream) {
  if (p.dtype == DType::f32) forward<float>(p, stream);
  else if (p.dtype == DType::bf16) forward<__nv_bfloat16>(p, stream);
  else return cudaErrorInvalidValue;
  return cudaGetLastError();
}

cudaError_t mlstm_chunkwise_bw_cuda(const ChunkwiseParams& p, cudaStream_t stream) {
  if (p.dtype == DType::f32) backward<float>(p, stream);
  else if (p.dtype == DType::bf16) backward<__nv_bfloat16>(p, stream);
  else return cudaErrorInvalidValue;
  return cudaGetLastError();
}

cudaError_t mlstm_step_cuda(const StepParams& p, cudaStream_t stream) {
  switch (p.dtype) {
    case DType::f32: launch_step<float>(p, stream); break;
    case DType::f16: launch_step<__half>(p, stream); break;
    case DType::bf16: launch_step<__nv_bfloat16>(p, stream); break;
  }
  return cudaGetLastError();
}

}  // namespace xlstm::kernels
