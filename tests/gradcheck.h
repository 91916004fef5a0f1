// Finite-difference gradient check for float64 functions of several tensors: compares the autograd
// gradient of <f(x), w> (w a fixed random projection) with central differences, element by element.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

namespace xlstm::testing {

// Returns max |autograd - numeric| / max(1, |numeric|) over all elements of all inputs that require grad.
inline double gradcheck_error(const std::function<torch::Tensor(const std::vector<torch::Tensor>&)>& f,
                              std::vector<torch::Tensor> inputs, double step = 1e-6) {
  for (auto& x : inputs) x = x.detach().to(torch::kFloat64).requires_grad_(true);
  auto out = f(inputs);
  auto weights = torch::randn_like(out);
  auto grads = torch::autograd::grad({(out * weights).sum()}, inputs, {}, /*retain_graph=*/false,
                                     /*create_graph=*/false, /*allow_unused=*/true);
  double worst = 0.0;
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto flat = inputs[i].view(-1);
    auto analytic = grads[i].defined() ? grads[i].reshape(-1) : torch::zeros_like(flat);
    for (int64_t j = 0; j < flat.numel(); ++j) {
      const double saved = flat[j].item<double>();
      flat[j] = saved + step;
      const double up = (f(inputs) * weights).sum().item<double>();
      flat[j] = saved - step;
      const double down = (f(inputs) * weights).sum().item<double>();
      flat[j] = saved;
      const double numeric = (up - down) / (2 * step);
      worst = std::max(worst, std::abs(analytic[j].item<double>() - numeric) / std::max(1.0, std::abs(numeric)));
    }
  }
  return worst;
}

}  // namespace xlstm::testing
