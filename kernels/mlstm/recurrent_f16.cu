// The recurrent (chunk-state) kernel of the chunkwise mLSTM for f16 inputs (see recurrent.cuh).
#include "mlstm/recurrent.cuh"

namespace xlstm::kernels {
template void launch_recurrent<__half>(const ChunkwiseParams&, bool, cudaStream_t);
}  // namespace xlstm::kernels
