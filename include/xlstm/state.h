// Recurrent states of the layers, blocks and models. Empty (undefined) tensors mean "start from zeros".
// All recurrent quantities are fp32 whatever the weight dtype.
//
// Conventions:
//  * causal conv: `conv` holds the last K-1 inputs of the conv (B, K-1, D), oldest first; forward and
//    step both read and return it in this form (the reference's step keeps K entries; see README).
//  * mLSTM cell (the mlstm_kernels convention, q scaled by 1/sqrt(DHQK), shared by both families):
//    C (B, NH, DHQK, DHV), n (B, NH, DHQK), m (B, NH, 1).
//  * sLSTM cell: (4, B, NH*DH) = [y, c, n, m] (the reference's layout).
#pragma once

#include <torch/torch.h>

#include <array>
#include <utility>
#include <vector>

namespace xlstm {

struct mLSTMState {
  torch::Tensor C, n, m;
  bool defined() const { return C.defined(); }
};

struct mLSTMLayerState {
  torch::Tensor conv;
  mLSTMState cell;
};

struct sLSTMLayerState {
  torch::Tensor conv;
  torch::Tensor slstm;  // (4, B, E)
};

// State of one xLSTMBlock: only the member that matches the block's layer is used.
struct xLSTMBlockState {
  mLSTMLayerState mlstm;
  sLSTMLayerState slstm;
};

// State of an xLSTMBlockStack / xLSTMLMModel: one entry per block (empty vector = zeros everywhere).
using xLSTMStackState = std::vector<xLSTMBlockState>;

// Every tensor of a block state with its batch dimension (the sLSTM cell state (4, B, E) has it at 1),
// for code that treats them alike (stacking batches, static buffers for CUDA graphs).
inline std::array<std::pair<torch::Tensor*, int64_t>, 6> state_tensors(xLSTMBlockState& s) {
  return {{{&s.mlstm.conv, 0}, {&s.mlstm.cell.C, 0}, {&s.mlstm.cell.n, 0}, {&s.mlstm.cell.m, 0}, {&s.slstm.conv, 0},
           {&s.slstm.slstm, 1}}};
}

}  // namespace xlstm
