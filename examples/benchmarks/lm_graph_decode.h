// Greedy decoding of an xLSTMLMModel with the step loop captured in a CUDA graph (bench_lm_train).
//
// The model's step is functional (state in, new state out), so the graph is built around static
// buffers: the input ids (B, 1) and one tensor per state tensor (xlstm::state_tensors). The captured
// body is one step from the static ids and state, the argmax of the logits written back into the ids,
// and the new state copied into the static state tensors; replay() therefore advances generation by
// one token with no host work but the launch. The step runs without the host-side id check
// (check_token_ids = false), the only device-to-host read of the step. CUDA builds only.
#pragma once

#if XLSTM_WITH_CUDA

#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/torch.h>

#include <xlstm/lm_model.h>

namespace xlstm_bench {

class GraphDecoder {
 public:
  // `state` and `first` (B, 1) int64: where decoding starts (copied; the graph is captured after three
  // warm-up steps on a side stream, which move the static buffers on, so call reset() before use).
  GraphDecoder(xlstm::xLSTMLMModel model, const xlstm::xLSTMStackState& state, const torch::Tensor& first)
      : model_(std::move(model)), state_(state), ids_(first.clone()) {
    for (auto& block : state_)
      for (auto [tensor, dim] : xlstm::state_tensors(block))
        if (tensor->defined()) *tensor = tensor->clone();
    torch::NoGradGuard no_grad;
    const auto stream = c10::cuda::getStreamFromPool();
    c10::cuda::CUDAStreamGuard guard(stream);
    for (int i = 0; i < 3; ++i) body();
    graph_.capture_begin();
    body();
    graph_.capture_end();
    torch::cuda::synchronize();  // the warm-up ran on the side stream; replays use the current one
  }

  // Copies `state` and `first` into the static buffers.
  void reset(const xlstm::xLSTMStackState& state, const torch::Tensor& first) {
    ids_.copy_(first);
    copy_state(state);
  }

  void replay() { graph_.replay(); }     // one token
  const torch::Tensor& ids() const { return ids_; }  // (B, 1): the token chosen by the last step

 private:
  void body() {
    auto [logits, next] = model_->step(ids_, state_, /*check_token_ids=*/false);
    ids_.copy_(logits.argmax(-1));
    copy_state(next);
  }

  // In place into the static state tensors.
  void copy_state(xlstm::xLSTMStackState source) {
    for (size_t b = 0; b < state_.size(); ++b) {
      auto targets = xlstm::state_tensors(state_[b]);
      auto sources = xlstm::state_tensors(source[b]);
      for (size_t k = 0; k < targets.size(); ++k)
        if (targets[k].first->defined()) targets[k].first->copy_(*sources[k].first);
    }
  }

  xlstm::xLSTMLMModel model_;
  xlstm::xLSTMStackState state_;
  torch::Tensor ids_;
  at::cuda::CUDAGraph graph_;
};

}  // namespace xlstm_bench

#endif  // XLSTM_WITH_CUDA
