// Validation of xLSTMLarge states.
#include "xlstm/large/state.h"

#include <string>

namespace xlstm::large {

namespace {

void check_entry(const torch::Tensor& t, const std::string& name, torch::IntArrayRef expected,
                 const torch::Device& device) {
  TORCH_CHECK(t.defined(), "xLSTMLarge: ", name, " is missing (expected a tensor of shape ", expected, ")");
  TORCH_CHECK(t.sizes() == expected, "xLSTMLarge: ", name, " must be ", expected, ", got ", t.sizes());
  TORCH_CHECK(t.is_floating_point(), "xLSTMLarge: ", name, " must be a floating-point tensor, got ", t.dtype());
  TORCH_CHECK(t.device() == device, "xLSTMLarge: ", name, " is on ", t.device(), ", the model on ", device);
}

}  // namespace

void check_state(const xLSTMLargeState& state, const xLSTMLargeConfig& config, int64_t batch,
                 const torch::Device& device) {
  if (state.empty()) return;
  TORCH_CHECK(static_cast<int64_t>(state.size()) == config.num_blocks, "xLSTMLarge: the state has ", state.size(),
              " block entries, the model ", config.num_blocks, " blocks");
  const int64_t NH = config.num_heads, DK = config.qk_head_dim(), DV = config.v_head_dim();
  for (std::size_t b = 0; b < state.size(); ++b) {
    const std::string at = "state[" + std::to_string(b) + "].";
    check_entry(state[b].C, at + "C", {batch, NH, DK, DV}, device);
    check_entry(state[b].n, at + "n", {batch, NH, DK}, device);
    check_entry(state[b].m, at + "m", {batch, NH, 1}, device);
  }
}

}  // namespace xlstm::large
