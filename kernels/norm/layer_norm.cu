// Launchers of the layer-norm kernels (layer_norm.cuh): the dtype pairs and J instantiations.
#include "norm/layer_norm.cuh"

namespace xlstm::kernels {
namespace {

template <class X, class Y, int J>
cudaError_t launch(const LayerNormParams& p, bool backward, cudaStream_t stream) {
  if (backward) layer_norm_bw_kernel<X, Y, J><<<p.grid_rows, kLnWarps * 32, 0, stream>>>(p);
  else layer_norm_fw_kernel<X, Y, J><<<p.grid_rows, kLnWarps * 32, 0, stream>>>(p);
  return cudaGetLastError();
}

// J >= ceil(E / 128): 6 for the 164M and 350M models' E 768, powers of two otherwise.
template <class X, class Y>
cudaError_t dispatch_j(const LayerNormParams& p, bool backward, cudaStream_t stream) {
  const int groups = (p.E + 127) / 128;
  if (groups <= 1) return launch<X, Y, 1>(p, backward, stream);
  if (groups <= 2) return launch<X, Y, 2>(p, backward, stream);
  if (groups <= 4) return launch<X, Y, 4>(p, backward, stream);
  if (groups <= 6) return launch<X, Y, 6>(p, backward, stream);
  if (groups <= 8) return launch<X, Y, 8>(p, backward, stream);
  return launch<X, Y, 16>(p, backward, stream);  // E <= kLayerNormMaxE
}

cudaError_t dispatch(const LayerNormParams& p, bool backward, cudaStream_t stream) {
  if (p.E < 4 || p.E % 4 != 0 || p.E > kLayerNormMaxE || p.grid_rows < 1 ||
      !layer_norm_dtypes_supported(p.x_dtype, p.y_dtype))
    return cudaErrorInvalidValue;
  switch (p.x_dtype) {
    case DType::bf16: return dispatch_j<__nv_bfloat16, __nv_bfloat16>(p, backward, stream);
    case DType::f16: return dispatch_j<__half, __half>(p, backward, stream);
    default: break;
  }
  switch (p.y_dtype) {
    case DType::bf16: return dispatch_j<float, __nv_bfloat16>(p, backward, stream);
    case DType::f16: return dispatch_j<float, __half>(p, backward, stream);
    default: return dispatch_j<float, float>(p, backward, stream);
  }
}

}  // namespace

bool layer_norm_dtypes_supported(DType x, DType y) { return x == y || x == DType::f32; }

int layer_norm_grid_rows(int64_t rows, int sms) {
  const int64_t by_rows = (rows + kLnWarps - 1) / kLnWarps;  // at least one row per warp
  const int64_t by_sms = 8LL * sms;                          // about eight CTAs per multiprocessor
  const int64_t g = by_rows < by_sms ? by_rows : by_sms;
  return static_cast<int>(g < 1 ? 1 : g);
}

cudaError_t layer_norm_fw_cuda(const LayerNormParams& p, cudaStream_t stream) { return dispatch(p, false, stream); }
cudaError_t layer_norm_bw_cuda(const LayerNormParams& p, cudaStream_t stream) { return dispatch(p, true, stream); }

}  // namespace xlstm::kernels
