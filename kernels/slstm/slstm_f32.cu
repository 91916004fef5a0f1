// The sLSTM forward and backward kernels for fp32 and fp16 inputs (FMA on CUDA cores; see forward.cuh, backward.cuh).
#include "slstm/launch.cuh"

namespace xlstm::kernels {
template <>
cudaError_t launch_slstm<float, false>(const SlstmParams& p, cudaStream_t stream) {
  return launch_slstm_dtype<float, false>(p, stream);
}
template <>
cudaError_t launch_slstm<float, true>(const SlstmParams& p, cudaStream_t stream) {
  return launch_slstm_dtype<float, true>(p, stream);
}
}  // namespace xlstm::kernels
