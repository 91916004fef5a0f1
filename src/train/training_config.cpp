// TrainingConfig::validate.
#include "xlstm/train/training_config.h"

#include <cmath>

#include "config/detail.h"
#include "config/validate_checks.h"
#include "config/yaml_scalars.h"

namespace xlstm::train {

void TrainingConfig::validate(const std::string& path) const {
  using namespace config_detail;
  check_positive(join(path, "batch_size"), batch_size);
  check_positive(join(path, "lr"), lr);
  check_non_negative(join(path, "val_every_step"), val_every_step);
  check_non_negative(join(path, "lr_warmup_steps"), lr_warmup_steps);
  check_positive(join(path, "num_steps"), num_steps);
  if (lr_decay_until_steps && *lr_decay_until_steps < lr_warmup_steps)
    throw ConfigError(join(path, "lr_decay_until_steps"),
                      show(*lr_decay_until_steps) + " is before the end of the warm-up (lr_warmup_steps " +
                          show(lr_warmup_steps) + ")");
  if (!lr_decay_until_steps && num_steps < lr_warmup_steps)
    throw ConfigError(join(path, "lr_warmup_steps"),
                      show(lr_warmup_steps) + " is longer than the run (num_steps " + show(num_steps) +
                          ", which is where the decay ends when lr_decay_until_steps is null)");
  if (!(lr_decay_factor > 0 && lr_decay_factor <= 1))
    throw ConfigError(join(path, "lr_decay_factor"), show(lr_decay_factor) + " is not in (0, 1]");
  if (!(weight_decay >= 0)) throw ConfigError(join(path, "weight_decay"), show(weight_decay) + " must be 0 or more");
  check_one_of(join(path, "device"), device, {"cuda", "cpu", "auto"});
  check_one_of(join(path, "weight_precision"), weight_precision, {"float32", "bfloat16"});
  if (amp_precision == "float16")
    throw ConfigError(join(path, "amp_precision"),
                      "\"float16\" is not supported (it needs loss scaling); use bfloat16 or float32");
  check_one_of(join(path, "amp_precision"), amp_precision, {"bfloat16", "float32"});
  if (gradient_clip_norm) check_positive(join(path, "gradient_clip_norm"), *gradient_clip_norm);
  if (!(adam_beta1 >= 0 && adam_beta1 < 1)) throw ConfigError(join(path, "adam_beta1"), show(adam_beta1) + " is not in [0, 1)");
  if (!(adam_beta2 >= 0 && adam_beta2 < 1)) throw ConfigError(join(path, "adam_beta2"), show(adam_beta2) + " is not in [0, 1)");
  check_positive(join(path, "adam_eps"), adam_eps);
  check_positive(join(path, "log_every_step"), log_every_step);
  check_non_negative(join(path, "checkpoint_every_step"), checkpoint_every_step);
  if (recompute_block_count) check_non_negative(join(path, "recompute_block_count"), *recompute_block_count);
  if (recompute_chunk_states < -1)
    throw ConfigError(join(path, "recompute_chunk_states"),
                      "must be -1 (every mLSTM block), 0 (none) or a count of blocks, got " +
                          std::to_string(recompute_chunk_states));
}

}  // namespace xlstm::train
