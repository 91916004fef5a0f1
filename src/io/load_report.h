// Pieces shared by the loaders of state_dict.cpp and folder_load.cpp: the module's tensors by name,
// shapes and dtypes as messages show them, and the one-message summary of a load that did not fit.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

#include "xlstm/io/state_dict.h"

namespace xlstm::io {

// Parameters and buffers of `module` by dotted name; tied tensors appear under every name.
std::map<std::string, torch::Tensor> named_tensors(const torch::nn::Module& module);

// "(4, 32)"
std::string shape_text(c10::IntArrayRef shape);

// "2 missing, 0 unexpected, 1 mismatched" followed by one line per problem.
std::string problems_text(const LoadResult& result);

}  // namespace xlstm::io
