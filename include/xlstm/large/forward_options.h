// Per-call options of a forward pass through the xLSTM-Large modules (layer, block, stack, model),
// and those of their step(x, state).
#pragma once

#include <torch/torch.h>

#include <optional>

#include "xlstm/large/backend.h"

namespace xlstm::large {

struct ForwardOptions {
  // Backend mode of this call; unset: the config's `mode`. Generation prefills in inference mode.
  std::optional<BackendMode> mode;
  // (B, S) bool, false at padding positions. There the input gate is closed and the forget gate open,
  // so the recurrent state passes through unchanged (exactly) and the outputs at those positions are
  // meaningless. Lets a left-padded batch of prompts of different lengths give each sequence the
  // results it gets alone. Undefined: every position is a token.
  torch::Tensor mask;
  // Model only: check that token ids lie in [0, vocab_size) (one host sync). Generation turns it off
  // for the ids it sampled itself.
  bool check_token_ids = true;
};

// The options of step(x, state) of every module: x (B, 1, ...) one position, inference mode (the step
// kernel). Throws c10::Error naming `module` when x holds more than one position.
ForwardOptions step_options(const torch::Tensor& x, const char* module);

}  // namespace xlstm::large
