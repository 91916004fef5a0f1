// xLSTMLarge (xlstm-spec.md §6.2), the architecture of NX-AI's xLSTM-7B:
//   logits = soft_cap(lm_head(backbone(embedding(ids))), output_logit_soft_cap)
// Parameter names are the reference's (embedding.weight, backbone.blocks.N..., backbone.out_norm.weight,
// lm_head.weight; §6.3), so its state dicts load unchanged.
//
// Usage:
//   auto cfg = xlstm::from_yaml_file<xlstm::xLSTMLargeConfig>("configs/xlstm_7b.yaml");
//   xlstm::large::xLSTMLarge model(cfg, torch::TensorOptions().dtype(torch::kBFloat16).device(torch::kCUDA));
//   auto [logits, state] = model->forward(ids);        // ids (B, S) int64, any S >= 1
//   auto [next, state2] = model->step(next_ids, state);  // (B, 1)
#pragma once

#include <torch/torch.h>

#include <tuple>

#include "xlstm/components/linear.h"
#include "xlstm/config.h"
#include "xlstm/large/block_stack.h"
#include "xlstm/large/forward_options.h"
#include "xlstm/large/state.h"

namespace xlstm::large {

class xLSTMLargeImpl : public torch::nn::Module {
 public:
  // Validates the config (ConfigError naming the field). Parameters are created with `options`:
  // a bf16 or GPU model is built directly, without an fp32 CPU copy; torch::kMeta builds shapes only.
  explicit xLSTMLargeImpl(const xLSTMLargeConfig& config, const torch::TensorOptions& options = {});

  // input_ids (B, S) int64 (or int32), S >= 1 -> logits (B, S, vocab_size) in the weight dtype, and the
  // state after the last position (state.h): always in inference mode, in train mode only with
  // return_last_states, never in train_with_padding (then empty). Errors (c10::Error): ids outside
  // [0, vocab_size) (one host sync, see ForwardOptions::check_token_ids), a state or mask that does not
  // fit (B, S), the config or the model's device.
  std::tuple<torch::Tensor, xLSTMLargeState> forward(const torch::Tensor& input_ids, const xLSTMLargeState& state = {},
                                                     const ForwardOptions& options = {});
  // One token per sequence, input_ids (B, 1), in inference mode (the step kernel).
  std::tuple<torch::Tensor, xLSTMLargeState> step(const torch::Tensor& input_ids, const xLSTMLargeState& state = {});

  // The reference's initialisation, which is PyTorch's defaults: embedding N(0, 1), Linear
  // U(±1/√fan_in) weights and biases, norm weights 1 and biases 0.
  void reset_parameters();

  xLSTMLargeConfig config;
  torch::nn::Embedding embedding{nullptr};
  xLSTMLargeBlockStack backbone{nullptr};
  Linear lm_head{nullptr};
};
TORCH_MODULE(xLSTMLarge);

}  // namespace xlstm::large
