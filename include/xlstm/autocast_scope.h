// The thread-local autocast state of one device type (at::autocast, the mechanism behind
// torch.autocast), set for a scope and restored after it; the weight-cast cache is cleared when the
// outermost scope ends, as torch.autocast's __exit__ does.
#pragma once

#include <torch/torch.h>

namespace xlstm {

class AutocastScope {
 public:
  AutocastScope(c10::DeviceType type, bool enabled, at::ScalarType dtype);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  c10::DeviceType type_;
  bool was_enabled_;
  at::ScalarType previous_dtype_;
};

}  // namespace xlstm
