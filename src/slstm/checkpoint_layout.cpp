// Vanilla -> CUDA layout of sLSTM checkpoints, detected by the recurrent kernel's shape.
#include "xlstm/slstm/checkpoint_layout.h"

#include <sstream>

#include "xlstm/io/safetensors.h"

namespace xlstm {

namespace {
const std::string kKernelSuffix = "slstm_cell._recurrent_kernel_";
const std::string kBiasSuffix = "slstm_cell._bias_";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

int convert_vanilla_slstm_params(std::map<std::string, torch::Tensor>& state_dict) {
  int converted = 0;
  for (auto& [key, kernel] : state_dict) {
    if (!ends_with(key, kKernelSuffix)) continue;
    // Vanilla: (NH, 4·DH, DH). The CUDA layout (NH, DH, 4·DH) never matches this for DH > 0.
    if (kernel.dim() != 3 || kernel.size(2) == 0 || kernel.size(1) != 4 * kernel.size(2)) continue;
    const int64_t heads = kernel.size(0), head_dim = kernel.size(2);
    const std::string bias_key = key.substr(0, key.size() - kKernelSuffix.size()) + kBiasSuffix;
    const auto it = state_dict.find(bias_key);
    if (it == state_dict.end())
      throw CheckpointError("sLSTM checkpoint: '" + key + "' has the vanilla layout but '" + bias_key +
                            "' is missing");
    if (it->second.numel() != 4 * heads * head_dim) {
      std::ostringstream msg;
      msg << "sLSTM checkpoint: '" << bias_key << "' has shape " << it->second.sizes() << ", expected "
          << 4 * heads * head_dim << " elements to go with '" << key << "' " << kernel.sizes();
      throw CheckpointError(msg.str());
    }
    kernel = kernel.transpose(1, 2).contiguous();
    it->second = it->second.reshape({4, heads, head_dim}).permute({1, 0, 2}).reshape({-1}).contiguous();
    ++converted;
  }
  return converted;
}

}  // namespace xlstm
