// Parameter initialisations of the reference (xlstm/components/init.py and the sLSTM cell's bias
// init, xlstm-spec.md §4). All of them write in place under torch::NoGradGuard, so they can be
// applied to parameters that require gradients.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace xlstm {

// N(0, σ²), σ = sqrt(2 / (5·dim)) ("small_init_init_").
void small_init_(torch::Tensor& p, int64_t dim);

// N(0, σ²), σ = 2 / num_blocks / sqrt(dim).
void wang_init_(torch::Tensor& p, int64_t dim, int64_t num_blocks);

// p = linspace(start, end, p.numel()); p must be 1-D.
void bias_linspace_init_(torch::Tensor& p, double start, double end);

// The sLSTM forget-gate bias of bias_init "powerlaw_blockdependent": along the last dimension of p
// (length DH, the same values for every leading index, e.g. every head)
//   p[..., j] = -(-5 + 12 · (j / (DH - 1))^(0.3 + 1.3·r)),  r = block_idx / (num_blocks - 1) (0 for one block),
// running from +5 (j = 0) down to -7 (j = DH - 1). DH must be at least 2 (the reference divides by
// zero for DH = 1 and produces NaN; here that is an std::invalid_argument).
void powerlaw_blockdependent_init_(torch::Tensor& p, int64_t block_idx, int64_t num_blocks);

}  // namespace xlstm
