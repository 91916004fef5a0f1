// Mixed precision through LibTorch's C++ autocast (at::autocast), the mechanism behind the reference's
// torch.autocast: inside an enabled guard, matmul-like ops of fp32 tensors on `device` run in `dtype`
// (bfloat16) and reductions stay fp32, while the parameters stay fp32 (the master weights the optimizer
// updates). The library's cells keep their gate and state math in fp32 under autocast as well.
#pragma once

#include <torch/torch.h>

#include <optional>

namespace xlstm::train {

class AutocastGuard {
 public:
  // Enables autocast for `device`'s type with `dtype`; nullopt leaves everything as it is.
  AutocastGuard(const torch::Device& device, std::optional<torch::ScalarType> dtype);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType device_type_ = c10::DeviceType::CPU;
  bool was_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kFloat;
};

}  // namespace xlstm::train
