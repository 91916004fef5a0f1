// Helpers of the xLSTM-Large test suites: small configs and models with reproducible weights.
#pragma once

#include <torch/torch.h>

#include <string>

#include "xlstm/config.h"
#include "xlstm/large/model.h"

namespace xlstm::testing {

// A small xLSTM-Large config: E = 32, 2 heads (q/k head dim 8, v head dim 16), 2 blocks, vocab 50,
// chunk 8, inference mode with states.
inline xLSTMLargeConfig small_large_config(const std::string& mode = "inference", int64_t chunk_size = 8) {
  xLSTMLargeConfig c;
  c.embedding_dim = 32;
  c.num_heads = 2;
  c.num_blocks = 2;
  c.vocab_size = 50;
  c.chunkwise_kernel = "chunkwise--native_autograd";
  c.sequence_kernel = "native_sequence__native";
  c.step_kernel = "native";
  c.mode = mode;
  c.chunk_size = chunk_size;
  c.return_last_states = mode != "train_with_padding";
  c.validate();
  return c;
}

// A model of `config` with weights drawn from `seed` (PyTorch's default init) and gate biases spread
// out so that the forget and input gates vary between heads.
inline large::xLSTMLarge seeded_large_model(const xLSTMLargeConfig& config, uint64_t seed,
                                            const torch::TensorOptions& options = {}) {
  torch::manual_seed(seed);
  large::xLSTMLarge model(config, options);
  torch::NoGradGuard no_grad;
  for (auto& p : model->named_parameters())
    if (p.key().find("fgate_preact.bias") != std::string::npos) p.value().uniform_(1.0, 4.0);
  return model;
}

inline torch::Tensor random_ids(int64_t batch, int64_t seq, int64_t vocab, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(0, vocab, {batch, seq}, torch::kLong);
}

}  // namespace xlstm::testing
