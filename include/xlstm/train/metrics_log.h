// Metrics as JSON lines, one object per record: {"step": 200, "split": "train", "loss": 0.69, ...}.
// Each line is flushed when written, so a crashed run keeps what it logged.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace xlstm::train {

class MetricsLog {
 public:
  // Appends to `path` after dropping the records of steps after `keep_until_step` (the lines a
  // resumed run will write again); a missing file is created. std::runtime_error names the file.
  MetricsLog(const std::string& path, int64_t keep_until_step);

  void write(int64_t step, const std::string& split, const std::vector<std::pair<std::string, double>>& values);

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace xlstm::train
