// The output and gradient products of the chunkwise mLSTM for f32 inputs (see chunk_gemm.cuh).
#include "mlstm/chunk_gemm.cuh"

namespace xlstm::kernels {
template void launch_chunk_gemm<float>(const ChunkwiseParams&, GemmKind, cudaStream_t);
template void launch_chunk_gemm_grads<float>(const ChunkwiseParams&, cudaStream_t);
}  // namespace xlstm::kernels
