// sLSTM cell: external gate layout -> per-head layout, then the reference recurrence.
#include "xlstm/slstm/cell.h"

#include <cmath>
#include <string>

#include "xlstm/components/init.h"
#include "xlstm/ops.h"
#include "xlstm/slstm/slstm_reference.h"

namespace xlstm {

sLSTMCellImpl::sLSTMCellImpl(const sLSTMCellConfig& cfg) : config(cfg) {
  const int64_t hidden = cfg.hidden_size, heads = cfg.num_heads;
  if (hidden <= 0) throw ConfigError("hidden_size", std::to_string(hidden) + " must be positive");
  if (heads <= 0 || hidden % heads != 0)
    throw ConfigError("num_heads", std::to_string(heads) + " does not divide " + std::to_string(hidden));
  if (cfg.function != "slstm")
    throw ConfigError("function", "'" + cfg.function + "' is not supported by this sLSTM cell (only 'slstm')");
  if (cfg.num_gates != 4) throw ConfigError("num_gates", std::to_string(cfg.num_gates) + " must be 4");
  if (cfg.backend != "cuda" && cfg.backend != "vanilla")
    throw ConfigError("backend", "'" + cfg.backend + "' is not one of cuda, vanilla");
  if (cfg.input_shape != "BSGNH" && cfg.input_shape != "SBGNH")
    throw ConfigError("input_shape", "'" + cfg.input_shape + "' is not one of BSGNH, SBGNH");
  if (cfg.output_shape != "BNSH" && cfg.output_shape != "SBH" && cfg.output_shape != "BSH" && cfg.output_shape != "SBNH")
    throw ConfigError("output_shape", "'" + cfg.output_shape + "' is not one of BNSH, SBH, BSH, SBNH");
  const int64_t head_dim = hidden / heads;
  recurrent_kernel = register_parameter("_recurrent_kernel_", torch::empty({heads, head_dim, 4 * head_dim}));
  bias = register_parameter("_bias_", torch::empty({4 * hidden}));
  reset_parameters();
}

void sLSTMCellImpl::reset_parameters() {
  const int64_t heads = config.num_heads, head_dim = config.head_dim();
  const double bound = 1.0 / std::sqrt(static_cast<double>(config.hidden_size));
  torch::NoGradGuard no_grad;

  if (config.recurrent_weight_init == "zeros") {
    recurrent_kernel.zero_();
  } else if (config.recurrent_weight_init == "standard") {
    recurrent_kernel.uniform_(-bound, bound);
  } else {
    throw ConfigError("recurrent_weight_init", "'" + config.recurrent_weight_init + "' is not one of zeros, standard");
  }

  auto fgate_bias = bias.view({heads, 4, head_dim}).select(1, 1);  // (NH, DH), the f slot
  if (config.bias_init == "powerlaw_blockdependent") {
    bias.zero_();
    powerlaw_blockdependent_init_(fgate_bias, config._block_idx, config._num_blocks);
  } else if (config.bias_init == "small_init") {
    bias.zero_();
    fgate_bias.copy_(torch::linspace(3.0, 6.0, head_dim, torch::kFloat64));
  } else if (config.bias_init == "standard") {
    bias.uniform_(-bound, bound);
  } else if (config.bias_init == "zeros") {
    bias.zero_();
  } else {
    throw ConfigError("bias_init", "'" + config.bias_init +
                                       "' is not one of powerlaw_blockdependent, small_init, standard, zeros");
  }
}

std::tuple<torch::Tensor, torch::Tensor> sLSTMCellImpl::forward(const torch::Tensor& x, const torch::Tensor& state) {
  const int64_t hidden = config.hidden_size, heads = config.num_heads, head_dim = config.head_dim();
  const bool time_major = config.input_shape == "SBGNH";
  TORCH_CHECK(x.dim() == 3 && x.size(2) == 4 * hidden, "sLSTMCell: expected input (", time_major ? "S, B, " : "B, S, ",
              4 * hidden, "), got ", x.sizes());
  const auto xb = time_major ? x.transpose(0, 1) : x;  // (B, S, 4H)
  const int64_t batch = xb.size(0), seq = xb.size(1);
  TORCH_CHECK(!state.defined() || (state.dim() == 3 && state.size(0) == 4 && state.size(1) == batch &&
                                   state.size(2) == hidden),
              "sLSTMCell: expected state (4, ", batch, ", ", hidden, "), got ", state.sizes());
  // (B, S, G, NH, DH) -> (B, S, NH, G, DH)
  const auto wx = xb.reshape({batch, seq, 4, heads, head_dim}).transpose(2, 3);
  // backend "cuda" on a CUDA tensor: the fused kernels (xlstm::slstm_fw); else the ATen loop.
  auto [y, last] = x.is_cuda() && config.backend == "cuda" ? ops::slstm(wx, recurrent_kernel, bias, state)
                                                           : slstm_forward_reference(wx, recurrent_kernel, bias, state);
  const auto& out = config.output_shape;
  if (out == "SBH") return {y.reshape({batch, seq, hidden}).transpose(0, 1), last};
  if (out == "BSH") return {y.reshape({batch, seq, hidden}), last};
  if (out == "SBNH") return {y.transpose(0, 1), last};
  return {y.transpose(1, 2), last};  // BNSH
}

}  // namespace xlstm
