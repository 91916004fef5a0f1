// Test helper: autograd gradients of a scalar function against central finite differences (float64).
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <vector>

namespace xlstm::testing {

// `inputs` are float64 tensors; f maps them to a scalar. For every element of every input, expects
// |autograd - (f(x+h) - f(x-h)) / 2h| <= atol + rtol·|finite difference|.
inline void expect_gradients_match_finite_differences(
    const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& f, std::vector<torch::Tensor> inputs,
    double h = 1e-6, double atol = 1e-7, double rtol = 1e-5) {
  for (auto& x : inputs) {
    ASSERT_EQ(x.scalar_type(), torch::kFloat64);
    x = x.detach().clone().requires_grad_(true);
  }
  const auto grads = torch::autograd::grad({f(inputs)}, inputs, /*grad_outputs=*/{}, /*retain_graph=*/false,
                                           /*create_graph=*/false, /*allow_unused=*/true);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto flat = inputs[i].view({-1});
    const auto g = grads[i].defined() ? grads[i].reshape({-1}) : torch::zeros_like(flat);
    for (int64_t k = 0; k < flat.numel(); ++k) {
      const double x0 = flat[k].item<double>();
      flat[k] = x0 + h;
      const double up = f(inputs).item<double>();
      flat[k] = x0 - h;
      const double down = f(inputs).item<double>();
      flat[k] = x0;
      const double fd = (up - down) / (2 * h), ad = g[k].item<double>();
      EXPECT_LE(std::abs(fd - ad), atol + rtol * std::abs(fd)) << "input " << i << " element " << k
                                                                << ": autograd " << ad << ", finite difference " << fd;
    }
  }
}

// A fixed random projection of every output, so each element takes part in a gradient check.
inline torch::Tensor random_projection(const torch::Tensor& out, int64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return (out * at::randn(out.sizes(), gen, torch::kFloat64)).sum();
}

}  // namespace xlstm::testing
