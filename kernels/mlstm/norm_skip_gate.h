// Parameters and host entry points of the fused output path of the NeurIPS mLSTM layer
// (norm_skip_gate.cu): per-head layer norm of the cell output, learnable skip, SiLU output gate.
// Plain structs, no ATen: src/ops/norm_skip_gate_cuda.cu.cpp checks the tensors and fills them.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "mlstm/params.h"

namespace xlstm::kernels {

// Rows are the B*S tokens (n = b*S + s); DH a multiple of 4 and every row (of each head) 16-byte (fp32)
// or 8-byte aligned (common/row_groups.cuh). h / dh (B, NH, S, DH) contiguous; c, z, dc, dz (rows, NH*DH)
// with unit channel stride and the given row strides (multiples of 4); y and dy (rows, NH*DH) contiguous; mean, rstd
// (rows, NH) fp32; norm_weight, skip (NH*DH) fp32; partial (grid_rows, 2, NH*DH) fp32 (backward: the
// per-CTA sums of d(norm_weight) and d(skip), added up by the caller in a fixed order).
struct NormSkipGateParams {
  DType dtype = DType::f32;
  int B = 0, S = 0, NH = 0, DH = 0;
  int64_t c_row = 0, z_row = 0, dc_row = 0, dz_row = 0;
  float eps = 1e-5f;
  const void* h = nullptr;
  const void* c = nullptr;
  const void* z = nullptr;
  const float* norm_weight = nullptr;
  const float* skip = nullptr;
  void* y = nullptr;
  float* mean = nullptr;
  float* rstd = nullptr;
  const void* dy = nullptr;
  void* dh = nullptr;
  void* dc = nullptr;
  void* dz = nullptr;
  float* partial = nullptr;
  int grid_rows = 0;  // CTAs along the rows (the backward's partial sums have one slice per CTA)
};

constexpr int kNormSkipGateMaxDH = 1024;
// CTAs along the rows for `rows` tokens and NH heads on a GPU with `sms` multiprocessors.
int norm_skip_gate_grid_rows(int64_t rows, int NH, int sms);
cudaError_t norm_skip_gate_fw_cuda(const NormSkipGateParams& p, cudaStream_t stream);
cudaError_t norm_skip_gate_bw_cuda(const NormSkipGateParams& p, cudaStream_t stream);

}  // namespace xlstm::kernels
