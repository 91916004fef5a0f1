// LinearWarmupCosineAnnealing::lr_at, the reference's compute_lr.
#include "xlstm/train/lr_schedule.h"

#include <cmath>

namespace xlstm::train {

double LinearWarmupCosineAnnealing::lr_at(int64_t step) const {
  if (step < warmup_steps) return max_lr * static_cast<double>(step) / static_cast<double>(warmup_steps);
  if (step >= decay_until_step) return min_lr;
  const double ratio =
      static_cast<double>(step - warmup_steps) / static_cast<double>(decay_until_step - warmup_steps);
  return min_lr + 0.5 * (1.0 + std::cos(M_PI * ratio)) * (max_lr - min_lr);
}

}  // namespace xlstm::train
