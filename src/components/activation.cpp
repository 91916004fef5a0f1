// Named activation functions and soft-capping.
#include "xlstm/components/activation.h"

#include <stdexcept>

namespace xlstm {

bool is_activation(const std::string& act_fn) {
  return act_fn == "gelu" || act_fn == "relu" || act_fn == "relu^2" || act_fn == "sigmoid" ||
         act_fn == "swish" || act_fn == "selu";
}

torch::Tensor apply_activation(const std::string& act_fn, const torch::Tensor& x) {
  if (act_fn == "gelu") return torch::gelu(x);  // approximate = "none": exact erf form
  if (act_fn == "relu") return torch::relu(x);
  if (act_fn == "relu^2") return torch::relu(x).square();
  if (act_fn == "sigmoid") return torch::sigmoid(x);
  if (act_fn == "swish") return torch::silu(x);
  if (act_fn == "selu") return torch::selu(x);
  throw std::invalid_argument("unknown activation function '" + act_fn +
                              "' (known: gelu, relu, relu^2, sigmoid, swish, selu)");
}

torch::Tensor soft_cap(const torch::Tensor& x, std::optional<double> cap) {
  if (!cap) return x;
  return *cap * torch::tanh(x / *cap);
}

}  // namespace xlstm
