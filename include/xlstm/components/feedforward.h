// Feed-forward layers: the NeurIPS GatedFeedForward (xlstm-spec.md §2.1) and the SwiGLU FeedForward
// of xLSTM-Large (§6.2).
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "xlstm/components/linear.h"
#include "xlstm/config.h"

namespace xlstm {

// y = dropout(proj_down(act(gate) ⊙ up)), [gate | up] = proj_up(x) (first F features = gate).
// proj_up: Linear(E, 2F, bias), proj_down: Linear(F, E, bias), F = cfg._proj_up_dim (cfg after post_init).
class GatedFeedForwardImpl : public torch::nn::Module {
 public:
  // Throws std::invalid_argument for an unknown act_fn or non-positive widths.
  explicit GatedFeedForwardImpl(const FeedForwardConfig& cfg);

  // proj_up.weight small_init(E), proj_down.weight wang_init(E, _num_blocks), biases 0.
  void reset_parameters();

  torch::Tensor forward(const torch::Tensor& x);  // (..., E) -> (..., E)

  FeedForwardConfig config;
  torch::nn::Linear proj_up{nullptr}, proj_down{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(GatedFeedForward);

namespace large {

// y = proj_down(SiLU(gate) ⊙ up). weight_mode "single" (fused = false): gate = proj_up_gate(x),
// up = proj_up(x); "fused": [gate | up] = proj_up_gate_z(x) (E -> 2F, gate rows first).
// The reference has no init code: PyTorch's Linear defaults. Parameters are created with `options`.
class FeedForwardImpl : public torch::nn::Module {
 public:
  FeedForwardImpl(int64_t embedding_dim, int64_t ffn_dim, bool use_bias, bool fused,
                  const torch::TensorOptions& options = {});
  void reset_parameters();
  torch::Tensor forward(const torch::Tensor& x);  // (..., E) -> (..., E)

  Linear proj_up_gate{nullptr}, proj_up{nullptr};  // single
  Linear proj_up_gate_z{nullptr};                  // fused
  Linear proj_down{nullptr};

 private:
  int64_t ffn_dim_;
  bool fused_;
};
TORCH_MODULE(FeedForward);

}  // namespace large
}  // namespace xlstm
