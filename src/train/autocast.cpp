// AutocastGuard: sets and restores the thread-local autocast state; the cast cache (weights cast once
// per forward pass) is cleared when the outermost guard ends, as torch.autocast's __exit__ does.
#include "xlstm/train/autocast.h"

#include <ATen/autocast_mode.h>

namespace xlstm::train {

AutocastGuard::AutocastGuard(const torch::Device& device, std::optional<torch::ScalarType> dtype) {
  if (!dtype) return;
  active_ = true;
  device_type_ = device.type();
  was_enabled_ = at::autocast::is_autocast_enabled(device_type_);
  previous_dtype_ = at::autocast::get_autocast_dtype(device_type_);
  at::autocast::set_autocast_enabled(device_type_, true);
  at::autocast::set_autocast_dtype(device_type_, *dtype);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(device_type_, was_enabled_);
  at::autocast::set_autocast_dtype(device_type_, previous_dtype_);
}

}  // namespace xlstm::train
