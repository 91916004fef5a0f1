// The mLSTM generation-step kernel for f16 inputs (see step.cuh).
#include "mlstm/step.cuh"

namespace xlstm::kernels {
template void launch_step<__half>(const StepParams&, cudaStream_t);
}  // namespace xlstm::kernels
