// Launchers of the fused output-path kernels (norm_skip_gate.cuh): the J instantiations per dtype.
#include "mlstm/norm_skip_gate.cuh"

namespace xlstm::kernels {
namespace {

// J >= ceil(DH / 128) groups of 128 channels: 3 and 6 for the common head dims 384 and 768.
template <class T, template <class, int> class Launch>
cudaError_t dispatch_j(const NormSkipGateParams& p, cudaStream_t stream) {
  const int groups = (p.DH + 127) / 128;
  if (groups <= 1) return Launch<T, 1>::run(p, stream);
  if (groups <= 2) return Launch<T, 2>::run(p, stream);
  if (groups <= 3) return Launch<T, 3>::run(p, stream);
  if (groups <= 4) return Launch<T, 4>::run(p, stream);
  if (groups <= 6) return Launch<T, 6>::run(p, stream);
  return Launch<T, 8>::run(p, stream);  // DH <= kNormSkipGateMaxDH
}

template <class T, int J>
struct LaunchFw {
  static cudaError_t run(const NormSkipGateParams& p, cudaStream_t stream) {
    norm_skip_gate_fw_kernel<T, J><<<dim3(p.grid_rows, p.NH), kWarps * 32, 0, stream>>>(p);
    return cudaGetLastError();
  }
};
template <class T, int J>
struct LaunchBw {
  static cudaError_t run(const NormSkipGateParams& p, cudaStream_t stream) {
    norm_skip_gate_bw_kernel<T, J><<<dim3(p.grid_rows, p.NH), kWarps * 32, 0, stream>>>(p);
    return cudaGetLastError();
  }
};

template <template <class, int> class Launch>
cudaError_t dispatch(const NormSkipGateParams& p, cudaStream_t stream) {
  if (p.DH < 4 || p.DH % 4 != 0 || p.DH > kNormSkipGateMaxDH) return cudaErrorInvalidValue;
  switch (p.dtype) {
    case DType::bf16: return dispatch_j<__nv_bfloat16, Launch>(p, stream);
    case DType::f16: return dispatch_j<__half, Launch>(p, stream);
    default: return dispatch_j<float, Launch>(p, stream);
  }
}

}  // namespace

int norm_skip_gate_grid_rows(int64_t rows, int NH, int sms) {
  const int64_t by_rows = (rows + kWarps - 1) / kWarps;     // at least one token per warp
  const int64_t by_sms = (16LL * sms + NH - 1) / NH;        // about sixteen CTAs per multiprocessor in all
  const int64_t g = by_rows < by_sms ? by_rows : by_sms;
  return static_cast<int>(g < 1 ? 1 : g);
}

cudaError_t norm_skip_gate_fw_cuda(const NormSkipGateParams& p, cudaStream_t stream) {
  return dispatch<LaunchFw>(p, stream);
}
cudaError_t norm_skip_gate_bw_cuda(const NormSkipGateParams& p, cudaStream_t stream) {
  return dispatch<LaunchBw>(p, stream);
}

}  // namespace xlstm::kernels
