// The intra-chunk score kernel of the chunkwise mLSTM for bf16 inputs (see scores.cuh).
#include "mlstm/scores.cuh"

namespace xlstm::kernels {
template void launch_scores<__nv_bfloat16>(const ChunkwiseParams&, bool, cudaStream_t);
}  // namespace xlstm::kernels
