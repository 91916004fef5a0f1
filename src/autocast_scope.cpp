// AutocastScope: sets and restores at::autocast's thread-local state of one device type.
#include "xlstm/autocast_scope.h"

#include <ATen/autocast_mode.h>

namespace xlstm {

AutocastScope::AutocastScope(c10::DeviceType type, bool enabled, at::ScalarType dtype)
    : type_(type), was_enabled_(at::autocast::is_autocast_enabled(type)),
      previous_dtype_(at::autocast::get_autocast_dtype(type)) {
  at::autocast::set_autocast_enabled(type, enabled);
  at::autocast::set_autocast_dtype(type, dtype);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(type_, was_enabled_);
  at::autocast::set_autocast_dtype(type_, previous_dtype_);
}

}  // namespace xlstm
