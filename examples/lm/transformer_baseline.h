// A GPT-style Transformer language model built from LibTorch modules: the baseline of the xLSTM
// language-model results (README, "Language modelling"). An example, not part of the library API.
//
//   token embedding + learned position embedding -> dropout
//   num_layers × pre-LayerNorm blocks:  x + attention(norm_1(x)),  x + mlp(norm_2(x))
//     attention: causal multi-head self-attention (one fused q/k/v projection, torch's
//                scaled_dot_product_attention, which uses the flash / memory-efficient kernels on GPUs)
//     mlp:       Linear(E, mlp_factor·E) -> GELU -> Linear(mlp_factor·E, E)
//   final LayerNorm -> head, tied to the token embedding by default (tie_weights: false gives a
//   separate bias-free head)
//
// Initialisation of GPT-2: weights normal(0, 0.02), the residual output projections normal(0,
// 0.02 / sqrt(2·num_layers)), biases 0, LayerNorms 1 / 0. Parameter names put LayerNorms and biases in
// the library's no-decay group (names with "norm", without "weight"); the token embedding is not
// decayed (as the xLSTM models' embedding), the position embedding is.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include <xlstm/lm_model.h>

namespace xlstm_examples {

struct TransformerConfig {
  int64_t vocab_size = 50304;
  int64_t context_length = 256;  // positions the model has
  int64_t embedding_dim = 256;
  int64_t num_layers = 8;
  int64_t num_heads = 4;   // must divide embedding_dim
  int64_t mlp_factor = 4;  // hidden width of the MLP in multiples of embedding_dim
  double dropout = 0.0;    // after the embeddings, the attention and the MLP
  bool tie_weights = true;
};

class CausalSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit CausalSelfAttentionImpl(const TransformerConfig& config);
  torch::Tensor forward(const torch::Tensor& x);  // (B, S, E) -> (B, S, E)

  int64_t num_heads;
  double dropout;
  torch::nn::Linear qkv{nullptr}, proj{nullptr};
};
TORCH_MODULE(CausalSelfAttention);

class TransformerBlockImpl : public torch::nn::Module {
 public:
  explicit TransformerBlockImpl(const TransformerConfig& config);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::LayerNorm norm_1{nullptr}, norm_2{nullptr};
  CausalSelfAttention attention{nullptr};
  torch::nn::Linear fc{nullptr}, fc_proj{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(TransformerBlock);

class TransformerLMImpl : public torch::nn::Module {
 public:
  explicit TransformerLMImpl(const TransformerConfig& config);  // initialised as described above
  // input_ids (B, S) int64 with S <= context_length -> logits (B, S, vocab_size).
  torch::Tensor forward(const torch::Tensor& input_ids);

  TransformerConfig config;
  torch::nn::Embedding token_embedding{nullptr}, position_embedding{nullptr};
  torch::nn::Dropout drop{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm_f{nullptr};
  xlstm::LMHead lm_head{nullptr};
};
TORCH_MODULE(TransformerLM);

}  // namespace xlstm_examples
