// The nccl backend over the rendezvous store, for one GPU per process (cuda:local_rank). Part of the
// CUDA build only; compiled with NCCL's header (nccl.h from the CUDA toolkit or PyPI's nvidia-nccl).
#define USE_C10D_NCCL 1
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include "distributed_impl.h"

namespace xlstm::train {

c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                                    const DistributedOptions& options) {
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(options.local_rank));
  auto nccl = c10d::ProcessGroupNCCL::Options::create();
  nccl->timeout = timeout_of(options);
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, options.rank, options.world_size, nccl);
}

}  // namespace xlstm::train
