// Test helper: copy a state dict into a module's parameters by name, requiring the same key set and
// shapes (a stand-in until the library's load_state_dict is available).
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

namespace xlstm::testing {

inline void load_parameters(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& state_dict) {
  torch::NoGradGuard no_grad;
  auto params = module.named_parameters();
  TORCH_CHECK(params.size() == state_dict.size(), "load_parameters: module has ", params.size(),
              " parameters, state dict ", state_dict.size());
  for (auto& p : params) {
    const auto it = state_dict.find(p.key());
    TORCH_CHECK(it != state_dict.end(), "load_parameters: missing key ", p.key());
    TORCH_CHECK(it->second.sizes() == p.value().sizes(), "load_parameters: ", p.key(), " has shape ",
                it->second.sizes(), ", module expects ", p.value().sizes());
    p.value().copy_(it->second);
  }
}

}  // namespace xlstm::testing
