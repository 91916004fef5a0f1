// Mixed precision through LibTorch's C++ autocast (at::autocast), the mechanism behind the reference's
// torch.autocast: inside an enabled guard, matmul-like ops of fp32 tensors on `device` run in `dtype`
// (bfloat16) and reductions stay fp32, while the parameters stay fp32 (the master weights the optimizer
// updates). The library's cells keep their gate and state math in fp32 under autocast as well.
#pragma once

#include <torch/torch.h>

#include <optional>

#include "xlstm/autocast_scope.h"

namespace xlstm::train {

class AutocastGuard {
 public:
  // Enables autocast for `device`'s type with `dtype`; nullopt leaves everything as it is.
  AutocastGuard(const torch::Device& device, std::optional<torch::ScalarType> dtype) {
    if (dtype) scope_.emplace(device.type(), true, *dtype);
  }

 private:
  std::optional<AutocastScope> scope_;
};

}  // namespace xlstm::train
