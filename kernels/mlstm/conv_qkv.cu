// Launchers of the fused input-path kernels (conv_qkv.cuh) and the grid choice.
#include "mlstm/conv_qkv.cuh"

namespace xlstm::kernels {
namespace {

template <class T>
cudaError_t launch(const ConvQkvParams& p, bool backward, cudaStream_t stream) {
  const dim3 grid(p.grid_x, (p.D + kThreads - 1) / kThreads);
  if (backward) conv_qkv_bw_kernel<T><<<grid, kThreads, 0, stream>>>(p);
  else conv_qkv_fw_kernel<T><<<grid, kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

cudaError_t dispatch(const ConvQkvParams& p, bool backward, cudaStream_t stream) {
  if (p.D % 4 != 0 || p.grid_x < 1 || p.tokens_per_cta < 1) return cudaErrorInvalidValue;
  switch (p.dtype) {
    case DType::bf16: return launch<__nv_bfloat16>(p, backward, stream);
    case DType::f16: return launch<__half>(p, backward, stream);
    default: return launch<float>(p, backward, stream);
  }
}

}  // namespace

void conv_qkv_grid(ConvQkvParams& p, int sms) {
  // About eight CTAs per multiprocessor in all (the forward's fit at once, the backward's in two waves of
  // four); at least 8 tokens per CTA.
  const int64_t blocks_y = (p.D + kThreads - 1) / kThreads;
  const int64_t tokens = static_cast<int64_t>(p.B) * p.S;
  int64_t per_cta = (tokens * blocks_y + 8LL * sms - 1) / (8LL * sms);
  per_cta = per_cta < 8 ? 8 : per_cta;
  per_cta = per_cta > p.S ? p.S : per_cta;
  p.tokens_per_cta = static_cast<int>(per_cta);
  p.grid_x = p.B * static_cast<int>((p.S + per_cta - 1) / per_cta);
}

cudaError_t conv_qkv_fw_cuda(const ConvQkvParams& p, cudaStream_t stream) { return dispatch(p, false, stream); }
cudaError_t conv_qkv_bw_cuda(const ConvQkvParams& p, cudaStream_t stream) { return dispatch(p, true, stream); }

}  // namespace xlstm::kernels
