// State dicts: the parameters and buffers of a module by their dotted names (the names PyTorch
// gives them, so reference checkpoints load without renaming), loaded from tensor maps or
// safetensors files and saved to safetensors files.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "xlstm/io/safetensors.h"

namespace xlstm::io {

// What did not fit in a load. `mismatched` entries read "name: checkpoint (4, 32) vs model (4, 64)".
struct LoadResult {
  std::vector<std::string> missing;     // in the model, not in the checkpoint
  std::vector<std::string> unexpected;  // in the checkpoint, not in the model
  std::vector<std::string> mismatched;  // in both, with different shapes
  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
};

// Copies checkpoint tensors into the module's parameters and buffers (converted to each parameter's
// dtype and device, without recording gradients). Tied parameters appear under each of their names.
// strict: any missing, unexpected or mismatched name raises one CheckpointError that lists every
// problem, and the module is left unchanged. Not strict: loads every tensor that fits and returns
// what did not.
LoadResult load_state_dict(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& tensors,
                           bool strict = true);

// The same from a safetensors file, read through zero-copy views of its mapping; errors name the file.
LoadResult load_state_dict(torch::nn::Module& module, const std::string& path, bool strict = true);

// Parameters and buffers by name; the tensors are detached and share memory with the module.
std::map<std::string, torch::Tensor> state_dict(const torch::nn::Module& module);

// Writes state_dict(module) to a safetensors file (tied tensors are stored once per name).
void save_state_dict(const torch::nn::Module& module, const std::string& path,
                     const std::map<std::string, std::string>& metadata = {});

}  // namespace xlstm::io
