// xLSTMLMModel: embedding, block stack, LM head; weight tying and the weight-decay groups.
#include "xlstm/lm_model.h"

#include <set>

#include "xlstm/components/init.h"

namespace xlstm {

LMHeadImpl::LMHeadImpl(int64_t in_features, int64_t out_features) {
  weight = register_parameter("weight", torch::empty({out_features, in_features}));
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));  // nn.Linear's default
}

void LMHeadImpl::tie_to(const torch::Tensor& shared) {
  TORCH_CHECK(shared.sizes() == weight.sizes(), "LMHead: cannot tie a ", weight.sizes(), " weight to ", shared.sizes());
  weight = shared;
  parameters_["weight"] = shared;
}

xLSTMLMModelImpl::xLSTMLMModelImpl(const xLSTMLMModelConfig& cfg) : config(cfg) {
  TORCH_CHECK(cfg.vocab_size > 0, "xLSTMLMModel: vocab_size must be positive, got ", cfg.vocab_size);
  token_embedding = register_module("token_embedding", torch::nn::Embedding(cfg.vocab_size, cfg.embedding_dim));
  emb_dropout = register_module("emb_dropout", torch::nn::Dropout(cfg.add_embedding_dropout ? cfg.dropout : 0.0));
  xlstm_block_stack = register_module("xlstm_block_stack", xLSTMBlockStack(cfg));
  lm_head = register_module("lm_head", LMHead(cfg.embedding_dim, cfg.vocab_size));
  if (cfg.tie_weights) lm_head->tie_to(token_embedding->weight);
}

void xLSTMLMModelImpl::reset_parameters() {
  xlstm_block_stack->reset_parameters();
  torch::NoGradGuard no_grad;
  small_init_(token_embedding->weight, config.embedding_dim);
  if (!config.tie_weights) small_init_(lm_head->weight, config.embedding_dim);
}

std::tuple<torch::Tensor, xLSTMStackState> xLSTMLMModelImpl::forward(const torch::Tensor& input_ids,
                                                                     const xLSTMStackState& state, bool check_token_ids) {
  TORCH_CHECK(input_ids.dim() == 2, "xLSTMLMModel: input_ids must be (B, S), got ", input_ids.sizes());
  TORCH_CHECK(!input_ids.is_floating_point(), "xLSTMLMModel: input_ids must be integers, got ", input_ids.dtype());
  if (check_token_ids && input_ids.numel() > 0) {
    const int64_t lo = input_ids.min().item<int64_t>(), hi = input_ids.max().item<int64_t>();
    TORCH_CHECK(lo >= 0 && hi < config.vocab_size, "xLSTMLMModel: token ids must lie in [0, ", config.vocab_size,
                "), got ids in [", lo, ", ", hi, "]");
  }
  auto x = emb_dropout->forward(token_embedding->forward(input_ids));
  auto [h, next] = xlstm_block_stack->forward(x, state);
  return {lm_head->forward(h), next};
}

std::tuple<torch::Tensor, xLSTMStackState> xLSTMLMModelImpl::step(const torch::Tensor& input_ids,
                                                                  const xLSTMStackState& state, bool check_token_ids) {
  TORCH_CHECK(input_ids.dim() == 2 && input_ids.size(1) == 1, "xLSTMLMModel::step: input_ids must be (B, 1), got ",
              input_ids.sizes());
  return forward(input_ids, state, check_token_ids);
}

ParamGroups weight_decay_param_groups(const torch::nn::Module& model, bool weight_decay_on_embedding) {
  ParamGroups groups;
  std::set<const void*> seen;
  for (const auto& item : model.named_parameters()) {
    const auto& name = item.key();
    const auto& p = item.value();
    if (!seen.insert(p.unsafeGetTensorImpl()).second) continue;  // tied: first name decides
    bool decay = name.find("weight") != std::string::npos && name.find("norm") == std::string::npos;
    if (name.find("token_embedding") != std::string::npos && !weight_decay_on_embedding) decay = false;
    (decay ? groups.decay : groups.no_decay).push_back(p);
  }
  return groups;
}

}  // namespace xlstm
