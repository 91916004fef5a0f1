// Conversion between the "single" and "fused" weight modes of xLSTM-Large (xlstm-spec.md §6.3, §6.4).
// Per block N (prefix backbone.blocks.N.), rows concatenated in this order:
//   mlstm_layer.{q, k, v, ogate_preact}.{weight, bias}   <-> mlstm_layer.qkv_opreact.{weight, bias}
//   mlstm_layer.{igate_preact, fgate_preact}.{weight, bias} <-> mlstm_layer.ifgate_preact.{weight, bias}
//   ffn.{proj_up_gate, proj_up}.{weight, bias}           <-> ffn.proj_up_gate_z.{weight, bias}
// Block indices are parsed exactly, so any number of blocks converts (the reference's converter
// matches prefixes and fails beyond 10 blocks). Other keys are passed through unchanged.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

#include "xlstm/config.h"
#include "xlstm/large/model.h"

namespace xlstm::large {

using TensorMap = std::map<std::string, torch::Tensor>;

// Single -> fused. A group with some members missing (e.g. k.weight without q.weight) throws
// std::invalid_argument naming the missing key.
TensorMap fuse_weights(const TensorMap& single);

// Fused -> single, split with the widths of `config` (qk_dim, v_dim, num_heads, ffn_dim). A fused
// tensor whose row count does not match throws std::invalid_argument naming the key and both shapes.
TensorMap split_fused_weights(const TensorMap& fused, const xLSTMLargeConfig& config);

// A copy of `model` with weight_mode `weight_mode` ("single" or "fused"), same dtype and device, and
// the converted weights (same outputs).
xLSTMLarge convert_weight_mode(const xLSTMLarge& model, const std::string& weight_mode);

}  // namespace xlstm::large
