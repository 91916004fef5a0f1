// Launchers of the row-wise cross-entropy kernels (cross_entropy.cuh): one instantiation per dtype.
#include "loss/cross_entropy.cuh"

namespace xlstm::kernels {
namespace {

template <class T>
struct LaunchFw {
  static void run(const CrossEntropyParams& p, dim3 grid, cudaStream_t stream) {
    cross_entropy_fw_kernel<T><<<grid, kCrossEntropyWarps * 32, 0, stream>>>(p);
  }
};
template <class T>
struct LaunchBw {
  static void run(const CrossEntropyParams& p, dim3 grid, cudaStream_t stream) {
    cross_entropy_bw_kernel<T><<<grid, kCrossEntropyWarps * 32, 0, stream>>>(p);
  }
};

template <template <class> class Launch>
cudaError_t dispatch(const CrossEntropyParams& p, cudaStream_t stream) {
  if (p.rows < 1 || p.vocab < 1) return cudaErrorInvalidValue;
  const int64_t ctas = (p.rows + kCrossEntropyWarps - 1) / kCrossEntropyWarps;
  if (ctas > 0x7fffffff) return cudaErrorInvalidValue;
  const dim3 grid(static_cast<unsigned>(ctas));
  switch (p.dtype) {
    case DType::bf16: Launch<__nv_bfloat16>::run(p, grid, stream); break;
    case DType::f16: Launch<__half>::run(p, grid, stream); break;
    default: Launch<float>::run(p, grid, stream); break;
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t cross_entropy_fw_cuda(const CrossEntropyParams& p, cudaStream_t stream) {
  return dispatch<LaunchFw>(p, stream);
}
cudaError_t cross_entropy_bw_cuda(const CrossEntropyParams& p, cudaStream_t stream) {
  return dispatch<LaunchBw>(p, stream);
}

}  // namespace xlstm::kernels
