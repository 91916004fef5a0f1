// Host side of the sLSTM kernels: the launch shape for a head dim, and the two entry points.
#include <algorithm>

#include "slstm/warp_product.cuh"

namespace xlstm::kernels {

// ksplit: 1 up to DH 128 (at most 8 k-steps of 16 per warp), 2 above (DH a multiple of 32, <= 256).
// cluster: the fewest CTAs whose units (a multiple of 8 each) give at most 8 warps per CTA; a single CTA
// when it suffices, which needs no cluster barrier.
SlstmLaunchShape slstm_launch_shape(const SlstmParams& p, int max_cluster, size_t max_smem) {
  SlstmLaunchShape shape;
  if (p.DH % 16 != 0 || p.DH > 256) return shape;
  shape.ksplit = p.DH <= 128 ? 1 : 2;
  if (p.DH % (16 * shape.ksplit) != 0) return shape;
  for (int cs = 1; cs <= max_cluster; ++cs) {
    if (p.DH % cs != 0 || (p.DH / cs) % 8 != 0 || (p.DH / cs / 8) * shape.ksplit * 32 > kSlstmMaxThreads) continue;
    SlstmParams q = p;
    q.cluster = cs;
    q.ksplit = shape.ksplit;
    const bool f32 = p.dtype == SlstmDType::f32;
    const size_t smem = f32 ? std::max(slstm_smem<float, 1, false>(q).total(), slstm_smem<float, 1, true>(q).total())
                            : std::max(slstm_smem<__nv_bfloat16, 1, false>(q).total(),
                                       slstm_smem<__nv_bfloat16, 1, true>(q).total());
    if (smem > max_smem) continue;
    shape.cluster = cs;
    shape.supported = true;
    return shape;
  }
  return shape;
}

cudaError_t slstm_fw_cuda(const SlstmParams& p, cudaStream_t stream) {
  return p.dtype == SlstmDType::f32 ? launch_slstm<float, false>(p, stream) : launch_slstm<__nv_bfloat16, false>(p, stream);
}

cudaError_t slstm_bw_cuda(const SlstmParams& p, cudaStream_t stream) {
  return p.dtype == SlstmDType::f32 ? launch_slstm<float, true>(p, stream) : launch_slstm<__nv_bfloat16, true>(p, stream);
}

}  // namespace xlstm::kernels
