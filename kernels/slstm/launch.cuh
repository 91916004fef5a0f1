// Launches one sLSTM recurrence kernel (forward.cuh, backward.cuh) for a given compute dtype: picks the template
// instance for the head dim's k-steps per warp and sets the cluster shape and shared memory.
#pragma once

#include "slstm/backward.cuh"
#include "slstm/forward.cuh"

namespace xlstm::kernels {

template <class T, int KST, int KSPLIT, bool BW>
cudaError_t launch_slstm_instance(const SlstmParams& p, cudaStream_t stream) {
  constexpr int MT = 1;  // 16-row batch tiles: larger ones hold too many registers in the backward
  void (*kernel)(SlstmParams) = nullptr;
  if constexpr (BW) {
    kernel = slstm_bw_kernel<T, KST, KSPLIT, MT>;
  } else {
    kernel = slstm_fw_kernel<T, KST, KSPLIT, MT>;
  }
  const size_t smem = slstm_smem<T, MT, BW>(p).total();
  cudaError_t err = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  if (err != cudaSuccess) return err;
  if (p.cluster > 8) {
    err = cudaFuncSetAttribute(kernel, cudaFuncAttributeNonPortableClusterSizeAllowed, 1);
    if (err != cudaSuccess) return err;
  }
  const int tiles = p.NH * ((p.B + 16 * MT - 1) / (16 * MT));
  const int threads = (p.DH / p.cluster / 8) * p.ksplit * 32;

  cudaLaunchConfig_t config = {};
  config.gridDim = dim3(static_cast<unsigned>(tiles * p.cluster));
  config.blockDim = dim3(static_cast<unsigned>(threads));
  config.dynamicSmemBytes = smem;
  config.stream = stream;
  cudaLaunchAttribute attribute[1];
  attribute[0].id = cudaLaunchAttributeClusterDimension;
  attribute[0].val.clusterDim.x = static_cast<unsigned>(p.cluster);
  attribute[0].val.clusterDim.y = 1;
  attribute[0].val.clusterDim.z = 1;
  config.attrs = attribute;
  config.numAttrs = p.cluster > 1 ? 1 : 0;
  return cudaLaunchKernelEx(&config, kernel, p);
}

// KST = DH / 16 / ksplit k-steps per warp: 1..8 with ksplit 1 (DH 16..128), 5..8 with ksplit 2
// (DH 160..256); the fp32 path loops over K at run time.
template <class T, bool BW>
cudaError_t launch_slstm_dtype(const SlstmParams& p, cudaStream_t stream) {
  if constexpr (std::is_same_v<T, float>) {
    return p.ksplit == 1 ? launch_slstm_instance<T, 0, 1, BW>(p, stream) : launch_slstm_instance<T, 0, 2, BW>(p, stream);
  } else {
    switch (p.DH / 16 / p.ksplit + 100 * p.ksplit) {
      case 101: return launch_slstm_instance<T, 1, 1, BW>(p, stream);
      case 102: return launch_slstm_instance<T, 2, 1, BW>(p, stream);
      case 103: return launch_slstm_instance<T, 3, 1, BW>(p, stream);
      case 104: return launch_slstm_instance<T, 4, 1, BW>(p, stream);
      case 105: return launch_slstm_instance<T, 5, 1, BW>(p, stream);
      case 106: return launch_slstm_instance<T, 6, 1, BW>(p, stream);
      case 107: return launch_slstm_instance<T, 7, 1, BW>(p, stream);
      case 108: return launch_slstm_instance<T, 8, 1, BW>(p, stream);
      case 205: return launch_slstm_instance<T, 5, 2, BW>(p, stream);
      case 206: return launch_slstm_instance<T, 6, 2, BW>(p, stream);
      case 207: return launch_slstm_instance<T, 7, 2, BW>(p, stream);
      case 208: return launch_slstm_instance<T, 8, 2, BW>(p, stream);
      default: return cudaErrorInvalidValue;
    }
  }
}

}  // namespace xlstm::kernels
