// State dict loading and saving: matches checkpoint names against the module's parameters and
// buffers, validates everything before touching the module, then copies under NoGradGuard.
#include "xlstm/io/state_dict.h"

#include "io/load_report.h"
#include "xlstm/slstm/checkpoint_layout.h"

namespace xlstm::io {
namespace {

// `source` starts error messages: the file path, or "load_state_dict" for an in-memory dict.
LoadResult load(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& tensors, bool strict,
                const std::string& source) {
  const auto targets = named_tensors(module);
  LoadResult result;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (destination, source)
  for (const auto& [name, target] : targets) {
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      result.missing.push_back(name);
    } else if (!it->second.defined()) {
      result.mismatched.push_back(name + ": checkpoint tensor is undefined");
    } else if (it->second.sizes() != target.sizes()) {
      result.mismatched.push_back(name + ": checkpoint " + shape_text(it->second.sizes()) + " vs model " +
                                  shape_text(target.sizes()));
    } else {
      copies.emplace_back(target, it->second);
    }
  }
  for (const auto& [name, tensor] : tensors)
    if (!targets.count(name)) result.unexpected.push_back(name);

  if (strict && !result.ok())
    throw CheckpointError(source + ": the checkpoint does not fit the model: " + problems_text(result));
  torch::NoGradGuard no_grad;
  for (auto& [target, value] : copies) target.copy_(value);
  return result;
}

}  // namespace

LoadResult load_state_dict(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& tensors,
                           bool strict) {
  // sLSTM cells saved by the reference's vanilla backend are recognised by shape and converted to
  // the CUDA layout this library uses (xlstm-spec.md §2.5); the caller's map is left as it was.
  auto converted = tensors;
  convert_vanilla_slstm_params(converted);
  return load(module, converted, strict, "load_state_dict");
}

LoadResult load_state_dict(torch::nn::Module& module, const std::string& path, bool strict) {
  SafetensorsReader reader(path);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& name : reader.keys()) tensors.emplace(name, reader.tensor(name));
  convert_vanilla_slstm_params(tensors);
  return load(module, tensors, strict, path);
}

std::map<std::string, torch::Tensor> state_dict(const torch::nn::Module& module) {
  auto tensors = named_tensors(module);
  for (auto& [name, tensor] : tensors) tensor = tensor.detach();
  return tensors;
}

void save_state_dict(const torch::nn::Module& module, const std::string& path,
                     const std::map<std::string, std::string>& metadata) {
  save_safetensors(path, state_dict(module), metadata);
}

}  // namespace xlstm::io
