// Recurrent state of xLSTMLarge: one mLSTM cell state per block (xlstm-spec.md §6.3, §6.5).
//
//   state[b].C  (B, NH, DHQK, DHV)   state[b].n  (B, NH, DHQK)   state[b].m  (B, NH, 1)
//
// with DHQK = qk_dim / NH and DHV = v_dim / NH (7B: 8 heads, 256 and 512: 128 MiB per sequence for
// 32 blocks). Always fp32 (fp64 in an fp64 model), whatever the weight dtype. An empty vector is a
// fresh sequence: C = n = 0 and m = 0, the reference's start.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "xlstm/config.h"
#include "xlstm/state.h"

namespace xlstm::large {

using xLSTMLargeState = std::vector<mLSTMState>;

// Checks a state passed to a model of `config` for a batch of `batch` sequences on `device`: empty, or
// num_blocks entries whose C, n, m have the shapes above. Throws c10::Error naming the entry, e.g.
// "xLSTMLarge: state[1].C must be (2, 2, 32, 64), got [2, 2, 64, 32]".
void check_state(const xLSTMLargeState& state, const xLSTMLargeConfig& config, int64_t batch,
                 const torch::Device& device);

}  // namespace xlstm::large
