// The tiny training run shared by the distributed tests (test_distributed.cpp) and the worker
// program they launch (distributed_worker.cpp): an xLSTM[1:1] language model of width 16 on
// repeated-segment data, fp32 on the CPU, a learning-rate schedule that does not depend on the
// number of steps (so that a run of k steps resumed to 2k equals a run of 2k steps).
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>

#include "xlstm/config.h"
#include "xlstm/data/repeated_segments.h"
#include "xlstm/lm_model.h"
#include "xlstm/train/trainer.h"

namespace xlstm::testing {

inline xLSTMLMModelConfig tiny_lm_config() {
  return from_yaml<xLSTMLMModelConfig>(
      "vocab_size: 16\ncontext_length: 16\nnum_blocks: 2\nembedding_dim: 16\n"
      "mlstm_block: {mlstm: {num_heads: 2}}\nslstm_block: {slstm: {num_heads: 2, backend: vanilla}}\nslstm_at: [1]\n");
}

inline xLSTMLMModel tiny_lm(uint64_t seed) {
  torch::manual_seed(seed);
  xLSTMLMModel model(tiny_lm_config());
  model->reset_parameters();
  return model;
}

// 48 examples: 6 batches of 8 per pass.
inline std::shared_ptr<const data::SequenceDataset> tiny_lm_data() {
  return std::make_shared<data::RepeatedSegmentDataset>(48, 16, 16, 5, 7);
}

inline train::TrainingConfig tiny_lm_training(int64_t steps, int64_t batch = 8) {
  train::TrainingConfig c;
  c.batch_size = batch;
  c.lr = 3e-3;
  c.lr_warmup_steps = 1;
  c.lr_decay_until_steps = 40;
  c.num_steps = steps;
  c.val_every_step = 0;
  c.log_every_step = 1;
  c.device = "cpu";
  c.enable_mixed_precision = false;
  c.gradient_clip_norm = 1.0;
  // AdamW's step is lr·m/(√v + eps): with the default eps 1e-8, gradients near 1e-9 (fp32 rounding
  // of sums that cancel, which differs with the order of the batch reduction) become steps of ~0.1 lr
  // of either sign. 1e-6 keeps such noise at noise level, so parameters after several steps compare
  // at fp32 precision, as the gradients do.
  c.adam_eps = 1e-6;
  return c;
}

inline std::map<std::string, torch::Tensor> parameters_of(const torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : module.named_parameters()) out[p.key()] = p.value().detach().clone();
  return out;
}

// The gradients the last step left (after the all-reduce and clipping, before zero_grad).
inline std::map<std::string, torch::Tensor> gradients_of(const torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : module.named_parameters()) out[p.key()] = p.value().grad().detach().clone();
  return out;
}

}  // namespace xlstm::testing
