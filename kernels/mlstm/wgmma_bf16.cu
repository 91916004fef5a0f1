// The wgmma kernels (sm_90a) for bf16 inputs, the only dtype they serve (fp16 runs as bf16; fp32 takes
// the separate kernels): the fused forward (fused_forward.cuh), the backward's walk of the state gradient
// (dstate_walk.cuh) and the normaliser's walks of both (norm_walk.cuh), and the host check that decides
// whether they run.
#include <cstddef>

#include "mlstm/dstate_walk.cuh"
#include "mlstm/fused_forward.cuh"
#include "mlstm/norm_walk.cuh"

namespace xlstm::kernels {

static_assert(kFusedMaxChunk <= kNormWalkMaxChunk && kDStateMaxChunk <= kNormWalkMaxChunk,
              "norm_walk covers the wgmma kernels' chunks");

// wgmma needs an sm_90 device (compute capability major 9) with room for both kernels' shared memory
// (optin_smem: the device's opt-in maximum per block) and sm_90a code in the build (CMake's
// XLSTM_CUDA_ARCHS); the binding keeps the answer in ChunkwiseParams::wgmma.
bool chunkwise_wgmma(const ChunkwiseParams& p, int cc_major, size_t optin_smem) {
#ifdef XLSTM_CUDA_SM90A
  if (p.dtype != DType::bf16 || (p.DQK != 128 && p.DQK != 256) || p.DHV % kTile != 0 ||
      p.L > kFusedMaxChunk || p.L > kDStateMaxChunk)
    return false;
  const int NQ = p.DQK / kTile;
  return cc_major == 9 && fused_forward_smem_bytes<__nv_bfloat16>(NQ) <= optin_smem &&
         dstate_walk_smem_bytes<__nv_bfloat16>(NQ) <= optin_smem;
#else
  (void)p;
  (void)cc_major;
  (void)optin_smem;
  return false;
#endif
}

template void launch_norm_walk<__nv_bfloat16>(const ChunkwiseParams&, bool, cudaStream_t);
template void launch_fused_forward<__nv_bfloat16>(const ChunkwiseParams&, cudaStream_t);
template void launch_dstate_walk<__nv_bfloat16>(const ChunkwiseParams&, cudaStream_t);

}  // namespace xlstm::kernels
