// run_summary and report_results (run_report.h).
#include "xlstm/train/run_report.h"

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "xlstm/train/progress.h"

namespace xlstm::train {

std::string run_summary(const TrainResult& result) {
  char summary[256];
  std::snprintf(summary, sizeof summary, "%lld steps in %s%s; train loss %.4f -> %.4f (first and last log interval%s)\n",
                static_cast<long long>(result.steps), format_duration(result.seconds).c_str(),
                result.resumed_from ? (" (resumed at step " + std::to_string(result.resumed_from) + ")").c_str() : "",
                result.first_loss, result.last_loss, result.resumed_from ? " of this part" : "");
  return summary;
}

void report_results(const std::string& output_dir, const std::string& summary, const std::string& table, std::ostream& out) {
  out << "\n" << summary << "\n" << table << std::flush;
  if (output_dir.empty()) return;
  std::ofstream file(output_dir + "/results.md", std::ios::trunc);
  file << summary << "\n" << table;
  if (!file) throw std::runtime_error(output_dir + "/results.md: cannot write");
}

}  // namespace xlstm::train
