// xLSTMLMModel (xlstm-spec.md §1.11, §2.7): token embedding -> optional embedding dropout ->
// xLSTMBlockStack -> lm_head (no bias), optionally tied to the embedding.
#pragma once

#include <torch/torch.h>

#include <tuple>
#include <vector>

#include "xlstm/block_stack.h"
#include "xlstm/config.h"
#include "xlstm/state.h"

namespace xlstm {

// A bias-free output projection whose weight can be tied to another tensor (both state-dict keys stay).
class LMHeadImpl : public torch::nn::Module {
 public:
  LMHeadImpl(int64_t in_features, int64_t out_features);
  torch::Tensor forward(const torch::Tensor& x) { return torch::nn::functional::linear(x, weight); }
  void tie_to(const torch::Tensor& shared);
  torch::Tensor weight;
};
TORCH_MODULE(LMHead);

class xLSTMLMModelImpl : public torch::nn::Module {
 public:
  explicit xLSTMLMModelImpl(const xLSTMLMModelConfig& config);  // config after post_init()

  // input_ids (B, S) int64 -> logits (B, S, V). Ids outside [0, vocab_size) are an error, checked on the
  // host unless check_token_ids is false (no device-to-host read: for ids known to be valid, such as
  // generated ones, and for CUDA graph capture).
  std::tuple<torch::Tensor, xLSTMStackState> forward(const torch::Tensor& input_ids, const xLSTMStackState& state = {},
                                                     bool check_token_ids = true);
  std::tuple<torch::Tensor, xLSTMStackState> step(const torch::Tensor& input_ids, const xLSTMStackState& state = {},
                                                  bool check_token_ids = true);
  // The reference's reset_parameters(): blocks, then small_init of the embedding (and of the head if untied).
  void reset_parameters();

  xLSTMLMModelConfig config;
  torch::nn::Embedding token_embedding{nullptr};
  torch::nn::Dropout emb_dropout{nullptr};  // identity unless add_embedding_dropout
  xLSTMBlockStack xlstm_block_stack{nullptr};
  LMHead lm_head{nullptr};
};
TORCH_MODULE(xLSTMLMModel);

// The reference's weight-decay groups (§4): decay <=> the name contains "weight" and not "norm"; the
// token embedding goes to no-decay unless weight_decay_on_embedding. Tied tensors appear once.
struct ParamGroups {
  std::vector<torch::Tensor> decay, no_decay;
};
ParamGroups weight_decay_param_groups(const torch::nn::Module& model, bool weight_decay_on_embedding);

}  // namespace xlstm
