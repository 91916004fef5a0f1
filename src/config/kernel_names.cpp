// The kernel names of the reference's mlstm_kernels registries (xlstm-spec.md §6.5), accepted by
// xLSTMLargeConfig.
#include "xlstm/config.h"

namespace xlstm {

const std::vector<std::string>& known_chunkwise_kernels() {
  static const std::vector<std::string> names = {
      "chunkwise--native_autograd",          "chunkwise--native_custbw",
      "chunkwise--triton_limit_chunk",       "chunkwise--triton_xl_chunk",
      "chunkwise--triton_xl_chunk_siging",   "parallel--native_autograd",
      "parallel--native_custbw",             "parallel--native_stablef_autograd",
      "parallel--native_stablef_custbw",     "parallel--triton_limit_headdim",
      "parallel--native_siging_autograd",    "parallel--native_siging_custbw",
  };
  return names;
}

const std::vector<std::string>& known_sequence_kernels() {
  static const std::vector<std::string> names = {"native_sequence__native", "native_sequence__triton"};
  return names;
}

const std::vector<std::string>& known_step_kernels() {
  static const std::vector<std::string> names = {"native", "triton"};
  return names;
}

}  // namespace xlstm
