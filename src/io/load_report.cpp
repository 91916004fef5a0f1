// Names, shapes and problem lists of state dict loads (see load_report.h).
#include "io/load_report.h"

namespace xlstm::io {

std::map<std::string, torch::Tensor> named_tensors(const torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) tensors[item.key()] = item.value();
  for (const auto& item : module.named_buffers(/*recurse=*/true)) tensors[item.key()] = item.value();
  return tensors;
}

std::string shape_text(c10::IntArrayRef shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

std::string problems_text(const LoadResult& result) {
  std::string text = std::to_string(result.missing.size()) + " missing, " + std::to_string(result.unexpected.size()) +
                     " unexpected, " + std::to_string(result.mismatched.size()) + " mismatched";
  for (const auto& name : result.missing) text += "\n  missing: " + name;
  for (const auto& name : result.unexpected) text += "\n  unexpected: " + name;
  for (const auto& entry : result.mismatched) text += "\n  mismatched: " + entry;
  return text;
}

}  // namespace xlstm::io
