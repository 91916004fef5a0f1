// The GPT-style Transformer baseline (transformer_baseline.h).
#include "lm/transformer_baseline.h"

#include <cmath>

namespace xlstm_examples {
namespace {

torch::nn::Linear linear(int64_t in, int64_t out, double std) {
  torch::nn::Linear layer(in, out);
  torch::NoGradGuard no_grad;
  layer->weight.normal_(0.0, std);
  layer->bias.zero_();
  return layer;
}

constexpr double kInitStd = 0.02;

double residual_std(const TransformerConfig& c) { return kInitStd / std::sqrt(2.0 * static_cast<double>(c.num_layers)); }

}  // namespace

CausalSelfAttentionImpl::CausalSelfAttentionImpl(const TransformerConfig& c) : num_heads(c.num_heads), dropout(c.dropout) {
  TORCH_CHECK(c.num_heads > 0 && c.embedding_dim % c.num_heads == 0, "transformer.num_heads ", c.num_heads,
              " does not divide embedding_dim ", c.embedding_dim);
  qkv = register_module("qkv", linear(c.embedding_dim, 3 * c.embedding_dim, kInitStd));
  proj = register_module("proj", linear(c.embedding_dim, c.embedding_dim, residual_std(c)));
}

torch::Tensor CausalSelfAttentionImpl::forward(const torch::Tensor& x) {
  const int64_t B = x.size(0), S = x.size(1), E = x.size(2);
  // (B, S, 3E) -> 3 × (B, NH, S, DH)
  const auto heads = qkv->forward(x).view({B, S, 3, num_heads, E / num_heads}).permute({2, 0, 3, 1, 4}).unbind(0);
  const auto y = at::scaled_dot_product_attention(heads[0], heads[1], heads[2], /*attn_mask=*/{},
                                                  is_training() ? dropout : 0.0, /*is_causal=*/true);
  return proj->forward(y.transpose(1, 2).reshape({B, S, E}));
}

TransformerBlockImpl::TransformerBlockImpl(const TransformerConfig& c) {
  norm_1 = register_module("norm_1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.embedding_dim})));
  attention = register_module("attention", CausalSelfAttention(c));
  norm_2 = register_module("norm_2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.embedding_dim})));
  fc = register_module("fc", linear(c.embedding_dim, c.mlp_factor * c.embedding_dim, kInitStd));
  fc_proj = register_module("fc_proj", linear(c.mlp_factor * c.embedding_dim, c.embedding_dim, residual_std(c)));
  drop = register_module("drop", torch::nn::Dropout(c.dropout));
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x) {
  auto h = x + drop->forward(attention->forward(norm_1->forward(x)));
  return h + drop->forward(fc_proj->forward(torch::gelu(fc->forward(norm_2->forward(h)))));
}

TransformerLMImpl::TransformerLMImpl(const TransformerConfig& c) : config(c) {
  TORCH_CHECK(c.vocab_size > 0 && c.context_length > 0 && c.embedding_dim > 0 && c.num_layers > 0 && c.mlp_factor > 0,
              "transformer: vocab_size, context_length, embedding_dim, num_layers and mlp_factor must be positive");
  token_embedding = register_module("token_embedding", torch::nn::Embedding(c.vocab_size, c.embedding_dim));
  position_embedding = register_module("position_embedding", torch::nn::Embedding(c.context_length, c.embedding_dim));
  drop = register_module("drop", torch::nn::Dropout(c.dropout));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_layers; ++i) blocks->push_back(TransformerBlock(c));
  norm_f = register_module("norm_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.embedding_dim})));
  lm_head = register_module("lm_head", xlstm::LMHead(c.embedding_dim, c.vocab_size));
  torch::NoGradGuard no_grad;
  token_embedding->weight.normal_(0.0, kInitStd);
  position_embedding->weight.normal_(0.0, kInitStd);
  if (c.tie_weights) {
    lm_head->tie_to(token_embedding->weight);
  } else {
    lm_head->weight.normal_(0.0, kInitStd);
  }
}

torch::Tensor TransformerLMImpl::forward(const torch::Tensor& input_ids) {
  const int64_t S = input_ids.size(1);
  TORCH_CHECK(S <= config.context_length, "TransformerLM: ", S, " positions, more than context_length ",
              config.context_length);
  const auto positions = torch::arange(S, torch::TensorOptions().dtype(torch::kLong).device(input_ids.device()));
  auto x = drop->forward(token_embedding->forward(input_ids) + position_embedding->forward(positions));
  for (const auto& block : *blocks) x = block->as<TransformerBlock>()->forward(x);
  return lm_head->forward(norm_f->forward(x));
}

}  // namespace xlstm_examples
