// Options of one-token steps.
#include "xlstm/large/forward_options.h"

namespace xlstm::large {

ForwardOptions step_options(const torch::Tensor& x, const char* module) {
  TORCH_CHECK(x.dim() >= 2 && x.size(1) == 1, module, "::step: expects one position, (B, 1, ...), got ", x.sizes());
  ForwardOptions options;
  options.mode = BackendMode::inference;
  return options;
}

}  // namespace xlstm::large
