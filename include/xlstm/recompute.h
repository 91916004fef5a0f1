// Activation checkpointing: y = fn(x) computed without keeping fn's intermediate tensors; the backward
// pass runs fn again on the saved x, with gradients, and back-propagates through that second graph.
// Memory drops to one saved input per call (plus one call's intermediates during the backward) for
// one more forward of fn. The recomputation sees what the first run saw: the autocast state of x's
// device (the first run also keeps autocast's weight-cast cache out of it, since its casts carry no
// graph), and the CPU and x's device random generators (dropout draws the same masks). fn's parameters
// receive their gradients during the outer backward, as with torch.utils.checkpoint (reentrant).
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <tuple>
#include <utility>

namespace xlstm {

// Whether a stack with recompute_count `count` recomputes block i: the first `count` blocks, every
// block for a negative count.
inline bool recomputes_block(int64_t count, std::size_t i) { return count < 0 || static_cast<int64_t>(i) < count; }

// x must be the only tensor input of fn that needs a gradient; other tensors fn reads (parameters
// aside) receive none. Without grad mode this is fn(x); with it, the result always has a gradient
// function (whether fn uses anything that needs a gradient shows only when the backward reruns it).
torch::Tensor recompute_in_backward(const std::function<torch::Tensor(const torch::Tensor&)>& fn,
                                    const torch::Tensor& x);

// For a block: fn(x) -> (y, state); y as above, the state that of the first, gradient-free run (the
// recomputation's state is dropped with the node).
template <class State, class Fn>
std::tuple<torch::Tensor, State> recompute_block(Fn fn, const torch::Tensor& x) {
  auto last = std::make_shared<State>();
  auto y = recompute_in_backward(
      [fn = std::move(fn), last](const torch::Tensor& in) {
        auto [out, state] = fn(in);
        *last = std::move(state);
        return out;
      },
      x);
  return {y, *last};
}

}  // namespace xlstm
