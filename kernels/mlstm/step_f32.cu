// The mLSTM generation-step kernel for f32 inputs (see step.cuh).
#include "mlstm/step.cuh"

namespace xlstm::kernels {
template void launch_step<float>(const StepParams&, cudaStream_t);
}  // namespace xlstm::kernels
