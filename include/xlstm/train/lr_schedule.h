// The reference's learning-rate schedule (experiments/lr_scheduler.py, LinearWarmupCosineAnnealing):
// linear warm-up from 0 to max_lr over warmup_steps, cosine decay from max_lr to min_lr until
// decay_until_step, then min_lr. The reference evaluates it once when it is built, so optimiser step
// s (counted from 0) uses lr_at(s): the first step has learning rate 0.
#pragma once

#include <cstdint>

namespace xlstm::train {

struct LinearWarmupCosineAnnealing {
  int64_t warmup_steps = 0;
  int64_t decay_until_step = 0;
  double max_lr = 0;
  double min_lr = 0;

  double lr_at(int64_t step) const;
};

}  // namespace xlstm::train
