// Activation checkpointing: y = fn(x) computed without keeping fn's intermediate tensors; the backward
// pass runs fn again on the saved x, with gradients, and back-propagates through that second graph.
// Memory drops to one saved input per call (plus one call's intermediates during the backward) for
// one more forward of fn. The recomputation sees what the first run saw: the autocast state of x's
// device (the first run also keeps autocast's weight-cast cache out of it, since its casts carry no
// graph), and the CPU and x's device random generators (dropout draws the same masks). fn's parameters
// receive their gradients during the outer backward, as with torch.utils.checkpoint (reentrant).
#pragma once

#include <torch/torch.h>

#include <functional>

namespace xlstm {

// x must be the only tensor input of fn that needs a gradient; other tensors fn reads (parameters
// aside) receive none. Without grad mode this is fn(x); with it, the result always has a gradient
// function (whether fn uses anything that needs a gradient shows only when the backward reruns it).
torch::Tensor recompute_in_backward(const std::function<torch::Tensor(const torch::Tensor&)>& fn,
                                    const torch::Tensor& x);

}  // namespace xlstm
