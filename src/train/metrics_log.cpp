// MetricsLog: JSON-lines records through nlohmann::json.
#include "xlstm/train/metrics_log.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace xlstm::train {

MetricsLog::MetricsLog(const std::string& path, int64_t keep_until_step) : path_(path) {
  std::string kept;
  {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      const auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (record.is_object() && record.contains("step") && record["step"].is_number_integer() &&
          record["step"].get<int64_t>() <= keep_until_step)
        kept += line + "\n";
    }
  }
  out_.open(path, std::ios::trunc);
  out_ << kept;
  out_.flush();
  if (!out_) throw std::runtime_error(path + ": cannot write the metrics file");
}

void MetricsLog::write(int64_t step, const std::string& split, const std::vector<std::pair<std::string, double>>& values) {
  nlohmann::json record{{"step", step}, {"split", split}};
  for (const auto& [key, value] : values) record[key] = std::isfinite(value) ? nlohmann::json(value) : nlohmann::json();
  out_ << record.dump() << "\n";
  out_.flush();
  if (!out_) throw std::runtime_error(path_ + ": cannot write the metrics file");
}

}  // namespace xlstm::train
