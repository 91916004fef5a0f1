// The recurrent (chunk-state) kernel of the chunkwise mLSTM for f32 inputs (see recurrent.cuh).
#include "mlstm/recurrent.cuh"

namespace xlstm::kernels {
template void launch_recurrent<float>(const ChunkwiseParams&, bool, cudaStream_t);
}  // namespace xlstm::kernels
