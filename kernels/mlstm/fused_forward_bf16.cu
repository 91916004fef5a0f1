// The fused forward (state walk and output, fused_forward.cuh) and its normaliser walk (norm_walk.cuh)
// for bf16 inputs, the only dtype they serve (fp16 runs as bf16; fp32 takes the separate kernels).
#include "mlstm/fused_forward.cuh"
#include "mlstm/norm_walk.cuh"

namespace xlstm::kernels {

static_assert(kFusedMaxChunk <= kNormWalkMaxChunk, "norm_walk covers the fused forward's chunks");

// The fused kernel's wgmma needs an sm_90 device and sm_90a code in the build (CMake's XLSTM_CUDA_ARCHS);
// a cudaGetDevice and two attribute reads, once per forward call (the binding keeps the answer in
// ChunkwiseParams::fused_forward).
bool chunkwise_fw_fused(const ChunkwiseParams& p) {
#ifdef XLSTM_CUDA_SM90A
  if (p.dtype != DType::bf16 || (p.DQK != 128 && p.DQK != 256) || p.DHV % kTile != 0 || p.L > kFusedMaxChunk)
    return false;
  int device = 0, major = 0, optin = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device) != cudaSuccess)
    return false;
  return major == 9 && fused_forward_smem_bytes<__nv_bfloat16>(p.DQK / kTile) <= static_cast<size_t>(optin);
#else
  (void)p;
  return false;
#endif
}

template void launch_norm_walk<__nv_bfloat16>(const ChunkwiseParams&, cudaStream_t);
template void launch_fused_forward<__nv_bfloat16>(const ChunkwiseParams&, cudaStream_t);

}  // namespace xlstm::kernels
