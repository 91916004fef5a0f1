// The end of a run's report, shared by the experiment programs and language-model training: the
// summary line (steps, wall time, train loss of the first and last log interval) and the results
// table, printed and written to <output_dir>/results.md.
#pragma once

#include <ostream>
#include <string>

#include "xlstm/train/trainer.h"

namespace xlstm::train {

// "300 steps in 45s; train loss 4.1234 -> 2.0123 (first and last log interval)\n" (resumed runs say so).
std::string run_summary(const TrainResult& result);

// Prints "\n" + summary + "\n" + table to `out` and writes summary + "\n" + table to
// output_dir/results.md (nothing when output_dir is empty); std::runtime_error when it cannot write.
void report_results(const std::string& output_dir, const std::string& summary, const std::string& table, std::ostream& out);

}  // namespace xlstm::train
