// xLSTM-Large block stack: blocks in order, each with its own cell state, then the output norm.
#include "xlstm/large/block_stack.h"

#include "xlstm/recompute.h"

namespace xlstm::large {

xLSTMLargeBlockStackImpl::xLSTMLargeBlockStackImpl(const xLSTMLargeConfig& config, const torch::TensorOptions& options) {
  for (int64_t b = 0; b < config.num_blocks; ++b) blocks->push_back(mLSTMBlock(config, options));
  register_module("blocks", blocks);
  if (config.add_out_norm) out_norm = register_module("out_norm", make_rms_norm(config, options));
}

void xLSTMLargeBlockStackImpl::reset_parameters() {
  for (auto& block : *blocks) block->as<mLSTMBlock>()->reset_parameters();
  if (!out_norm.is_empty()) out_norm->reset_parameters();
}

std::tuple<torch::Tensor, xLSTMLargeState> xLSTMLargeBlockStackImpl::forward(const torch::Tensor& x,
                                                                            const xLSTMLargeState& state,
                                                                            const ForwardOptions& options) {
  auto h = x;
  xLSTMLargeState next;
  const bool recompute = recompute_blocks && state.empty() && torch::GradMode::is_enabled();
  for (std::size_t b = 0; b < blocks->size(); ++b) {
    auto [y, block_state] =
        recompute && recomputes_block(recompute_count, b)
            ? recompute_block<mLSTMState>(
                        [block = blocks->ptr<mLSTMBlockImpl>(b), options](const torch::Tensor& in) {
                          return block->forward(in, mLSTMState{}, options);
                        },
                        h)
            : blocks[b]->as<mLSTMBlock>()->forward(h, state.empty() ? mLSTMState{} : state[b], options);
    h = y;
    if (block_state.defined()) next.push_back(block_state);
  }
  if (!out_norm.is_empty()) h = out_norm->forward(h);
  return {h, next};
}

std::tuple<torch::Tensor, xLSTMLargeState> xLSTMLargeBlockStackImpl::step(const torch::Tensor& x,
                                                                         const xLSTMLargeState& state) {
  return forward(x, state, step_options(x, "xLSTMLargeBlockStack"));
}

}  // namespace xlstm::large
