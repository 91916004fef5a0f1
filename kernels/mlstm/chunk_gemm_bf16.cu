// The output and gradient products of the chunkwise mLSTM for bf16 inputs (see chunk_gemm.cuh).
#include "mlstm/chunk_gemm.cuh"

namespace xlstm::kernels {
template void launch_chunk_gemm<__nv_bfloat16>(const ChunkwiseParams&, GemmKind, cudaStream_t);
template void launch_chunk_gemm_grads<__nv_bfloat16>(const ChunkwiseParams&, cudaStream_t);
}  // namespace xlstm::kernels
