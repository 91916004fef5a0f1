// Parameters and host entry points of the fused input path of the NeurIPS mLSTM layer (conv_qkv.cu):
// causal depthwise convolution, SiLU, and the block-diagonal q, k (from the convolved input) and v
// (from the input) projections. Plain structs, no ATen: src/ops/conv_qkv_cuda.cu.cpp fills them.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "mlstm/params.h"

namespace xlstm::kernels {

// A (B, S, D) tensor with unit channel stride: element (b, s, d) at ptr + b * sb + s * ss + d.
struct TokenTensor {
  void* ptr = nullptr;
  int64_t sb = 0, ss = 0;
};

constexpr int kConvQkvBlock = 4;     // the projections' block size (qkv_proj_blocksize) the kernels cover
constexpr int kConvQkvKernel = 4;    // the convolution's kernel size the kernels cover
constexpr int kConvQkvThreads = 128;  // channels per CTA (a thread per channel)

// Weights fp32 contiguous: conv_w (D, K), conv_b (D) or null, wq, wk, wv (D / 4, 4, 4) (y[o] = Σ_i W[o][i] x[i]
// per block), bq, bk, bv (D) or null. The outputs c, q, k, v are (B, S, D) contiguous. The backward's
// inputs dc (null: zero), dq, dk, dv; dx (B, S, D) contiguous; partial (grid_x, D, kConvQkvGrads) fp32
// holds each CTA's sums of the parameter gradients (added up by the caller in a fixed order); channel
// d = 4j + i: dwq[j][o][i], dwk[j][o][i], dwv[j][o][i] for o = 0..3, dconv_w[d][k], dconv_b[d], dbq[d],
// dbk[d], dbv[d].
constexpr int kConvQkvGrads = 3 * 4 + kConvQkvKernel + 4;
struct ConvQkvParams {
  DType dtype = DType::f32;
  int B = 0, S = 0, D = 0;
  int tokens_per_cta = 0, grid_x = 0;  // grid (grid_x, ceil(D / kConvQkvThreads)); grid_x = B * ceil(S / tokens_per_cta)
  TokenTensor x;
  const float* conv_w = nullptr;
  const float* conv_b = nullptr;
  const float* wq = nullptr;
  const float* wk = nullptr;
  const float* wv = nullptr;
  const float* bq = nullptr;
  const float* bk = nullptr;
  const float* bv = nullptr;
  void* c = nullptr;
  void* q = nullptr;
  void* k = nullptr;
  void* v = nullptr;
  TokenTensor dc, dq, dk, dv;
  void* dx = nullptr;
  float* partial = nullptr;
};

// Fills tokens_per_cta and grid_x for a GPU with `sms` multiprocessors.
void conv_qkv_grid(ConvQkvParams& p, int sms);
cudaError_t conv_qkv_fw_cuda(const ConvQkvParams& p, cudaStream_t stream);
cudaError_t conv_qkv_bw_cuda(const ConvQkvParams& p, cudaStream_t stream);

}  // namespace xlstm::kernels
