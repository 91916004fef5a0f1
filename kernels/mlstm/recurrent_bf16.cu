// The recurrent (chunk-state) kernel of the chunkwise mLSTM for bf16 inputs (see recurrent.cuh).
#include "mlstm/recurrent.cuh"

namespace xlstm::kernels {
template void launch_recurrent<__nv_bfloat16>(const ChunkwiseParams&, bool, cudaStream_t);
}  // namespace xlstm::kernels
