// The sLSTM cell (the reference's sLSTMCell, xlstm-spec.md §2.5): parameters in the reference's CUDA
// layout whatever `backend` says, so that GPU-trained checkpoints load as they are:
//   _recurrent_kernel_ (NH, DH, 4·DH): [h, d, g·DH + j], gates g = i, f, z, o
//   _bias_             (NH·4·DH):      [h·4·DH + g·DH + j]
// (checkpoint_layout.h converts the vanilla layout.) On CUDA tensors backend "cuda" runs the fused
// kernels (xlstm::slstm_fw, include/xlstm/ops.h); otherwise the ATen loop slstm_forward_reference.
#pragma once

#include <torch/torch.h>

#include <tuple>

#include "xlstm/config.h"

namespace xlstm {

class sLSTMCellImpl : public torch::nn::Module {
 public:
  // cfg after post_init (hidden_size set; an sLSTMLayerConfig works as well). Throws ConfigError for
  // a hidden_size that num_heads does not divide, an unknown backend, init name or shape name, and
  // for function "lstm" (the classic-LSTM variant is not supported).
  explicit sLSTMCellImpl(const sLSTMCellConfig& cfg);

  // recurrent_weight_init: "zeros" | "standard" (U(-1/sqrt(H), 1/sqrt(H)));
  // bias_init: "powerlaw_blockdependent" (f slot, init.h) | "small_init" (f slot linspace(3, 6, DH)) |
  // "standard" (all U(-1/sqrt(H), 1/sqrt(H))) | "zeros"; slots not named are zero.
  void reset_parameters();

  // x (B, S, 4H) in the external layout "BSGNH": x[b, t, g·H + h·DH + j], gates i, f, z, o
  // ((S, B, 4H) with input_shape "SBGNH"). state (4, B, H) = [y, c, n, m] or undefined (zeros).
  // Returns y in x's dtype, (B, NH, S, DH) for output_shape "BNSH" (the default; "SBH": (S, B, H),
  // "BSH": (B, S, H), "SBNH": (S, B, NH, DH)), and the final state (4, B, H) in fp32 (fp64 for fp64
  // inputs).
  std::tuple<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, const torch::Tensor& state = {});

  sLSTMCellConfig config;
  torch::Tensor recurrent_kernel;  // "_recurrent_kernel_"
  torch::Tensor bias;              // "_bias_"
};
TORCH_MODULE(sLSTMCell);

}  // namespace xlstm
