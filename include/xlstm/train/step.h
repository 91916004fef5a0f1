// One training step and the masked loss / accuracy shared by training and evaluation.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <optional>

#include "xlstm/data/sequence_dataset.h"
#include "xlstm/train/trainable.h"

namespace xlstm::train {

class GradientReducer;

// Cross-entropy over the positions whose target is not `ignore_index` (the mean over them, in fp32
// whatever the logits' dtype; 0 when there are none), the number of those positions whose argmax is
// the target, and their count. logits (B, S, V), targets (B, S) int64. All three stay on the logits'
// device: on CUDA nothing here waits for the device.
struct MaskedLoss {
  torch::Tensor loss;     // scalar fp32
  torch::Tensor correct;  // scalar int64
  torch::Tensor count;    // scalar int64
};
// grad_into_logits: the caller gives the logits up, so that on CUDA the backward may write the gradient
// over them (ops::cross_entropy_rows) instead of into a second (tokens, vocabulary) block.
MaskedLoss masked_loss(const torch::Tensor& logits, const torch::Tensor& targets, int64_t ignore_index,
                       bool grad_into_logits = false);

struct StepOptions {
  double lr = 0;
  std::optional<double> clip_norm;             // clip the global gradient norm to this
  std::optional<torch::ScalarType> amp_dtype;  // run the forward pass under autocast with this dtype
  int64_t ignore_index = -100;
  // Data-parallel training: the batch is this rank's shard, the statistics are the global batch's,
  // and the gradients are averaged over the ranks before clipping and the optimizer step.
  GradientReducer* reducer = nullptr;
};

struct StepStats {
  double loss = 0;
  int64_t correct = 0;
  int64_t count = 0;       // targets that count
  int64_t tokens = 0;      // input tokens of the batch (of all ranks' shards when data parallel)
  double grad_norm = 0;    // global gradient norm before clipping
};

// zero_grad, forward (under autocast when asked), masked loss, backward (outside autocast), optional
// clipping, learning rate, optimizer step. The batch must be on the model's device. Throws
// std::runtime_error when the loss or the gradient norm is not finite or the batch has no target,
// with the parameters (and an AdamW's state) as they were. On CUDA the host reads the step's numbers
// once, after all of its work is queued (with AdamW through fused_adamw_step, whose kernel drops a
// bad step on the device; other optimizers step after the read).
StepStats train_step(TrainableModel& model, torch::optim::Optimizer& optimizer, const data::Batch& batch,
                     const StepOptions& options);

}  // namespace xlstm::train
