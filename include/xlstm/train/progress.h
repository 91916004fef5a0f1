// The live progress line of a training run:
//   step 1200/20000 | loss 0.6931 | acc 0.5120 | lr 6.0e-04 | 45,210 tok/s | ETA 12m30s
// On a terminal it is redrawn in place (carriage return); otherwise print() writes it as a plain line.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace xlstm::train {

struct ProgressState {
  int64_t step = 0, total_steps = 0;
  double loss = 0, accuracy = 0, lr = 0, tokens_per_second = 0;
  double eta_seconds = -1;  // < 0: unknown
};

std::string format_progress(const ProgressState& state);
std::string format_duration(double seconds);  // "45s", "12m30s", "2h05m"
std::string format_thousands(double value);   // rounded, with separators: "1,233,562"

class ProgressLine {
 public:
  ProgressLine(std::ostream& out, bool interactive) : out_(out), interactive_(interactive) {}
  ~ProgressLine() { clear(); }
  // Redraws the line (interactive) or does nothing.
  void update(const ProgressState& state);
  // Writes the line as a line of its own (both modes).
  void print(const ProgressState& state);
  // Removes a drawn line, so that other output starts on a clean line.
  void clear();
  bool interactive() const { return interactive_; }

 private:
  std::ostream& out_;
  bool interactive_;
  size_t drawn_ = 0;
};

}  // namespace xlstm::train
