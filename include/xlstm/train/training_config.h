// The `training` section of an experiment config (the reference's experiments/*.yaml, xlstm-spec.md
// §8.1): batch size, AdamW and its learning-rate schedule, precision, validation interval and length
// of the run, plus this library's additions (gradient clipping, Adam betas, logging and checkpoint
// intervals). Defaults are the values of the reference's parity configs, except `device: auto`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "xlstm/config.h"

namespace xlstm::train {

struct TrainingConfig {
  int64_t batch_size = 256;
  double lr = 1e-3;  // peak learning rate
  int64_t seed = 42;  // torch::manual_seed before the model is built (its initialisation)
  int64_t val_every_step = 200;  // validation interval in steps; 0: only at the end
  int64_t lr_warmup_steps = 2000;
  std::optional<int64_t> lr_decay_until_steps;  // end of the cosine decay; null: num_steps
  double lr_decay_factor = 1e-3;                 // final learning rate = lr * lr_decay_factor
  double weight_decay = 0.1;                     // of the decay group (weight_decay_param_groups)
  int64_t num_steps = 20000;
  std::string device = "auto";                 // cuda | cpu | auto (cuda when available)
  std::string amp_precision = "bfloat16";      // autocast dtype: bfloat16 | float32
  std::string weight_precision = "float32";    // parameter dtype: float32 | bfloat16
  bool enable_mixed_precision = true;          // run the forward pass under autocast(amp_precision)
  // Additions of this library:
  std::optional<double> gradient_clip_norm;  // clip the global gradient norm to this; null: no clipping
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  int64_t log_every_step = 50;         // train metrics (JSON lines, printed line) every this many steps
  int64_t checkpoint_every_step = 0;   // 0: a checkpoint at the end only
  bool recompute_blocks = false;       // activation checkpointing of the blocks (xLSTMBlockStack::recompute_blocks)
  std::optional<int64_t> recompute_block_count;  // with recompute_blocks: the first this many blocks; null: all
  // The first this many mLSTM blocks recompute their chunk states in the backward (-1: all; 0: none):
  // xLSTMBlockStack::recompute_chunk_states.
  int64_t recompute_chunk_states = 0;
  // Run each batch without its trailing positions where no example has a target (data::trim_to_last_target):
  // the same loss and gradients for the library's causal models, far less work for padded tasks.
  bool trim_padding = true;

  int64_t decay_until() const { return lr_decay_until_steps.value_or(num_steps); }

  void post_init() {}
  void validate(const std::string& path = "") const;

  template <class V>
  void fields(V&& v) {
    v("batch_size", batch_size, FieldKind::user);
    v("lr", lr, FieldKind::user);
    v("seed", seed, FieldKind::user);
    v("val_every_step", val_every_step, FieldKind::user);
    v("lr_warmup_steps", lr_warmup_steps, FieldKind::user);
    v("lr_decay_until_steps", lr_decay_until_steps, FieldKind::user);
    v("lr_decay_factor", lr_decay_factor, FieldKind::user);
    v("weight_decay", weight_decay, FieldKind::user);
    v("num_steps", num_steps, FieldKind::user);
    v("device", device, FieldKind::user);
    v("amp_precision", amp_precision, FieldKind::user);
    v("weight_precision", weight_precision, FieldKind::user);
    v("enable_mixed_precision", enable_mixed_precision, FieldKind::user);
    v("gradient_clip_norm", gradient_clip_norm, FieldKind::user);
    v("adam_beta1", adam_beta1, FieldKind::user);
    v("adam_beta2", adam_beta2, FieldKind::user);
    v("adam_eps", adam_eps, FieldKind::user);
    v("log_every_step", log_every_step, FieldKind::user);
    v("checkpoint_every_step", checkpoint_every_step, FieldKind::user);
    v("recompute_blocks", recompute_blocks, FieldKind::user);
    v("recompute_block_count", recompute_block_count, FieldKind::user);
    v("recompute_chunk_states", recompute_chunk_states, FieldKind::user);
    v("trim_padding", trim_padding, FieldKind::user);
  }
};

}  // namespace xlstm::train
