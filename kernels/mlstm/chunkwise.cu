// The launch sequences of the chunkwise mLSTM (kernels.md §1.2-1.3) and the step, dispatched on the
// input dtype.
//   forward:  gate_prep -> recurrent (chunk states, last state) -> scores (P, normaliser) -> h
//   backward: gate_prep -> recurrent (states again, <dC_last, C_last>) -> scores (P', dS, a, dm)
//             -> recurrent in reverse (dC states, dC0) -> dq, dk, dv -> gate_grad (di, df, dm0)
// Only the forward's h, n_out and m_out are kept between the two; the states are recomputed.
#include "mlstm/launch.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace xlstm::kernels {
namespace {

template <class T>
void forward(const ChunkwiseParams& p, cudaStream_t stream) {
  launch_gate_prep(p, stream);
  launch_recurrent<T>(p, /*backward=*/false, stream);
  launch_scores<T>(p, /*backward=*/false, stream);
  launch_chunk_gemm<T>(p, GemmKind::h, stream);
}

template <class T>
void backward(const ChunkwiseParams& p, cudaStream_t stream) {
  const ChunkwiseScratch sizes = chunkwise_scratch(p);
  const size_t heads = static_cast<size_t>(p.B) * p.NH;
  cudaMemsetAsync(p.rowdot, 0, sizes.positions * sizeof(float), stream);
  cudaMemsetAsync(p.kdk, 0, sizes.positions * sizeof(float), stream);
  cudaMemsetAsync(p.tlast, 0, heads * sizeof(float), stream);
  cudaMemsetAsync(p.c0dot, 0, heads * sizeof(float), stream);
  launch_gate_prep(p, stream);
  ChunkwiseParams recompute = p;
  recompute.c_last = recompute.n_last = recompute.m_last = nullptr;
  launch_recurrent<T>(recompute, /*backward=*/false, stream);
  launch_scores<T>(p, /*backward=*/true, stream);
  launch_recurrent<T>(p, /*backward=*/true, stream);
  launch_chunk_gemm<T>(p, GemmKind::dq, stream);
  launch_chunk_gemm<T>(p, GemmKind::dk, stream);
  launch_chunk_gemm<T>(p, GemmKind::dv, stream);
  launch_gate_grad(p, stream);
}

template <template <class> class Fn, class P>
cudaError_t dispatch(DType dtype, const P& p, cudaStream_t stream) {
  switch (dtype) {
    case DType::f32: Fn<float>::run(p, stream); break;
    case DType::f16: Fn<__half>::run(p, stream); break;
    case DType::bf16: Fn<__nv_bfloat16>::run(p, stream); break;
  }
  return cudaGetLastError();
}

template <class T>
struct Forward {
  static void run(const ChunkwiseParams& p, cudaStream_t s) { forward<T>(p, s); }
};
template <class T>
struct Backward {
  static void run(const ChunkwiseParams& p, cudaStream_t s) { backward<T>(p, s); }
};
template <class T>
struct Step {
  static void run(const StepParams& p, cudaStream_t s) { launch_step<T>(p, s); }
};

}  // namespace

cudaError_t mlstm_chunkwise_fw_cuda(const ChunkwiseParams& p, cudaStream_t stream) {
  return dispatch<Forward>(p.dtype, p, stream);
}
cudaError_t mlstm_chunkwise_bw_cuda(const ChunkwiseParams& p, cudaStream_t stream) {
  return dispatch<Backward>(p.dtype, p, stream);
}
cudaError_t mlstm_step_cuda(const StepParams& p, cudaStream_t stream) { return dispatch<Step>(p.dtype, p, stream); }

}  // namespace xlstm::kernels
