// xLSTMLarge: embedding, block stack, soft-capped LM head; input checks.
#include "xlstm/large/model.h"

#include "xlstm/components/activation.h"

namespace xlstm::large {

namespace {

// Ids in [0, vocab): min and max read back together (one host sync).
void check_token_ids(const torch::Tensor& ids, int64_t vocab_size) {
  const auto [lo, hi] = torch::aminmax(ids);
  const auto range = torch::stack({lo, hi}).to(torch::kCPU, torch::kLong);
  const int64_t min_id = range[0].item<int64_t>(), max_id = range[1].item<int64_t>();
  TORCH_CHECK(min_id >= 0 && max_id < vocab_size, "xLSTMLarge: token ids must lie in [0, ", vocab_size,
              "), got ids in [", min_id, ", ", max_id, "]");
}

}  // namespace

xLSTMLargeImpl::xLSTMLargeImpl(const xLSTMLargeConfig& cfg, const torch::TensorOptions& options) : config(cfg) {
  config.validate();
  embedding = register_module(
      "embedding", torch::nn::Embedding(torch::nn::EmbeddingOptions(cfg.vocab_size, cfg.embedding_dim)
                                            ._weight(torch::empty({cfg.vocab_size, cfg.embedding_dim}, options))));
  backbone = register_module("backbone", xLSTMLargeBlockStack(cfg, options));
  lm_head = register_module("lm_head", Linear(cfg.embedding_dim, cfg.vocab_size, /*bias=*/false, options));
  // Every other submodule initialises itself when constructed; a second pass over all weights would
  // only double the construction time (seconds for the 7B on a CPU).
  embedding->reset_parameters();
}

void xLSTMLargeImpl::reset_parameters() {
  embedding->reset_parameters();
  backbone->reset_parameters();
  lm_head->reset_parameters();
}

std::tuple<torch::Tensor, xLSTMLargeState> xLSTMLargeImpl::forward(const torch::Tensor& input_ids,
                                                                   const xLSTMLargeState& state,
                                                                   const ForwardOptions& options) {
  const auto device = embedding->weight.device();
  TORCH_CHECK(input_ids.defined() && input_ids.dim() == 2 && input_ids.size(0) >= 1 && input_ids.size(1) >= 1,
              "xLSTMLarge: input_ids must be (B, S) with B, S >= 1, got ",
              input_ids.defined() ? input_ids.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(input_ids.scalar_type() == torch::kLong || input_ids.scalar_type() == torch::kInt,
              "xLSTMLarge: input_ids must be int64 or int32, got ", input_ids.dtype());
  TORCH_CHECK(input_ids.device() == device, "xLSTMLarge: input_ids are on ", input_ids.device(), ", the model on ",
              device);
  const int64_t B = input_ids.size(0), S = input_ids.size(1);
  if (options.mask.defined())
    TORCH_CHECK(options.mask.scalar_type() == torch::kBool && options.mask.sizes() == input_ids.sizes() &&
                    options.mask.device() == device,
                "xLSTMLarge: mask must be a bool tensor of the shape of input_ids (", B, ", ", S, ") on ", device,
                ", got ", options.mask.dtype(), " ", options.mask.sizes(), " on ", options.mask.device());
  check_state(state, config, B, device);
  if (options.check_token_ids) check_token_ids(input_ids, config.vocab_size);

  auto [h, next] = backbone->forward(embedding->forward(input_ids), state, options);
  return {soft_cap(lm_head->forward(h), config.output_logit_soft_cap), next};
}

std::tuple<torch::Tensor, xLSTMLargeState> xLSTMLargeImpl::step(const torch::Tensor& input_ids,
                                                                const xLSTMLargeState& state) {
  return forward(input_ids, state, step_options(input_ids, "xLSTMLarge"));
}

}  // namespace xlstm::large
