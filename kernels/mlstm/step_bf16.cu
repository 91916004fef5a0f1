// The mLSTM generation-step kernel for bf16 inputs (see step.cuh).
#include "mlstm/step.cuh"

namespace xlstm::kernels {
template void launch_step<__nv_bfloat16>(const StepParams&, cudaStream_t);
}  // namespace xlstm::kernels
