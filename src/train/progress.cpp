// Formatting and drawing of the progress line.
#include "xlstm/train/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace xlstm::train {

std::string format_thousands(double value) {
  std::string digits = std::to_string(std::llabs(std::llround(value)));
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
  return (std::llround(value) < 0 ? "-" : "") + digits;
}

std::string format_duration(double seconds) {
  const long long s = std::llround(std::max(0.0, seconds));
  char text[32];
  if (s < 60)
    std::snprintf(text, sizeof text, "%llds", s);
  else if (s < 3600)
    std::snprintf(text, sizeof text, "%lldm%02llds", s / 60, s % 60);
  else
    std::snprintf(text, sizeof text, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  return text;
}

std::string format_progress(const ProgressState& p) {
  char head[160];
  std::snprintf(head, sizeof head, "step %lld/%lld | loss %.4f | acc %.4f | lr %.1e | ", static_cast<long long>(p.step),
                static_cast<long long>(p.total_steps), p.loss, p.accuracy, p.lr);
  return head + format_thousands(p.tokens_per_second) + " tok/s | ETA " + (p.eta_seconds < 0 ? "?" : format_duration(p.eta_seconds));
}

void ProgressLine::update(const ProgressState& state) {
  if (!interactive_) return;
  const std::string line = format_progress(state);
  out_ << "\r" << line;
  if (line.size() < drawn_) out_ << std::string(drawn_ - line.size(), ' ');
  out_.flush();
  drawn_ = line.size();
}

void ProgressLine::print(const ProgressState& state) {
  clear();
  out_ << format_progress(state) << "\n";
  out_.flush();
}

void ProgressLine::clear() {
  if (drawn_ == 0) return;
  out_ << "\r" << std::string(drawn_, ' ') << "\r";
  out_.flush();
  drawn_ = 0;
}

}  // namespace xlstm::train
