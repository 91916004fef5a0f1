// The intra-chunk score kernel of the chunkwise mLSTM for f32 inputs (see scores.cuh).
#include "mlstm/scores.cuh"

namespace xlstm::kernels {
template void launch_scores<float>(const ChunkwiseParams&, bool, cudaStream_t);
}  // namespace xlstm::kernels
