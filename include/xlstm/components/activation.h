// Activation functions by name (the reference's act_fn registry) and soft-capping (xLSTM-Large).
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>

namespace xlstm {

// act_fn names of the reference: "gelu" (exact, erf), "relu", "relu^2", "sigmoid", "swish" (SiLU),
// "selu". An unknown name throws std::invalid_argument naming it and the known ones.
torch::Tensor apply_activation(const std::string& act_fn, const torch::Tensor& x);

// Whether `act_fn` is one of the names above.
bool is_activation(const std::string& act_fn);

// cap · tanh(x / cap); x itself when cap is nullopt.
torch::Tensor soft_cap(const torch::Tensor& x, std::optional<double> cap);

}  // namespace xlstm
