// The sLSTM forward kernels for bf16 inputs (see forward.cuh, backward.cuh).
#include "slstm/launch.cuh"

namespace xlstm::kernels {
template <>
cudaError_t launch_slstm<__nv_bfloat16, false>(const SlstmParams& p, cudaStream_t stream) {
  return launch_slstm_dtype<__nv_bfloat16, false>(p, stream);
}
}  // namespace xlstm::kernels
