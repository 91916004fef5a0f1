// The wgmma kernels (sm_90a) for bf16 inputs, the only dtype they serve (fp16 runs as bf16; fp32 takes
// the separate kernels): the fused forward (fused_forward.cuh), the backward's walk of the state gradient
// (dstate_walk.cuh) and the normaliser's walks of both (norm_walk.cuh), and the host check that decides
// whether they run.
#include <array>
#include <mutex>

#include "mlstm/dstate_walk.cuh"
#include "mlstm/fused_forward.cuh"
#include "mlstm/norm_walk.cuh"

namespace xlstm::kernels {

static_assert(kFusedMaxChunk <= kNormWalkMaxChunk && kDStateMaxChunk <= kNormWalkMaxChunk,
              "norm_walk covers the wgmma kernels' chunks");

#ifdef XLSTM_CUDA_SM90A
namespace {

// A device's compute capability (major) and opt-in shared memory per block, read once per device.
struct DeviceLimits {
  int major = 0, optin = 0;
};
const DeviceLimits& device_limits(int device) {
  constexpr int kMaxDevices = 64;
  static std::array<std::once_flag, kMaxDevices> once;
  static std::array<DeviceLimits, kMaxDevices> limits;
  static const DeviceLimits none;
  if (device < 0 || device >= kMaxDevices) return none;
  std::call_once(once[device], [device] {
    DeviceLimits d;
    if (cudaDeviceGetAttribute(&d.major, cudaDevAttrComputeCapabilityMajor, device) == cudaSuccess &&
        cudaDeviceGetAttribute(&d.optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) == cudaSuccess)
      limits[device] = d;
  });
  return limits[device];
}

}  // namespace
#endif

// wgmma needs an sm_90 device and sm_90a code in the build (CMake's XLSTM_CUDA_ARCHS); the device's
// limits are read once, the current device once per op call (the binding keeps the answer in
// ChunkwiseParams::wgmma).
bool chunkwise_wgmma(const ChunkwiseParams& p) {
#ifdef XLSTM_CUDA_SM90A
  if (p.dtype != DType::bf16 || (p.DQK != 128 && p.DQK != 256) || p.DHV % kTile != 0 ||
      p.L > kFusedMaxChunk || p.L > kDStateMaxChunk)
    return false;
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) return false;
  const DeviceLimits& d = device_limits(device);
  const int NQ = p.DQK / kTile;
  return d.major == 9 && fused_forward_smem_bytes<__nv_bfloat16>(NQ) <= static_cast<size_t>(d.optin) &&
         dstate_walk_smem_bytes<__nv_bfloat16>(NQ) <= static_cast<size_t>(d.optin);
#else
  (void)p;
  return false;
#endif
}

template void launch_norm_walk<__nv_bfloat16>(const ChunkwiseParams&, bool, cudaStream_t);
template void launch_fused_forward<__nv_bfloat16>(const ChunkwiseParams&, cudaStream_t);
template void launch_dstate_walk<__nv_bfloat16>(const ChunkwiseParams&, cudaStream_t);

}  // namespace xlstm::kernels
