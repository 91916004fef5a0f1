// Where one training step spends its time: the step runs under the Kineto profiler of LibTorch, and
// the summary adds up, by name, the GPU activities (kernels, copies, memsets) on CUDA, or on the CPU
// the outermost aten::/xlstm:: ops of each thread (nested ops are counted in their caller). Names are
// shortened to the kernel or op (template arguments and parameter lists dropped).
#pragma once

#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace xlstm_bench {

struct ProfileRow {
  std::string name;
  int64_t count = 0;
  double ms = 0.0;
};

// "void xlstm::kernels::slstm_fw_kernel<__nv_bfloat16, 8, 2, 1>(xlstm::kernels::SlstmParams)" ->
// "xlstm::kernels::slstm_fw_kernel"; at most 80 characters.
inline std::string short_name(std::string name) {
  if (name.rfind("void ", 0) == 0) name = name.substr(5);
  for (const char stop : {'<', '('}) {
    const auto at = name.find(stop);
    if (at != std::string::npos && at > 0) name = name.substr(0, at);
  }
  return name.size() > 80 ? name.substr(0, 77) + "..." : name;
}

// Runs `step` (which must synchronise the device before it returns) under the profiler; the rows are
// sorted by time, largest first. `trace` (optional) receives the Chrome trace.
inline std::vector<ProfileRow> profile_step(const std::function<void()>& step, bool cuda, const std::string& trace) {
  namespace prof = torch::autograd::profiler;
  using torch::profiler::impl::ActivityType;
  const torch::profiler::impl::ProfilerConfig config(torch::profiler::impl::ProfilerState::KINETO);
  std::set<ActivityType> activities{ActivityType::CPU};
  if (cuda) activities.insert(ActivityType::CUDA);
  prof::prepareProfiler(config, activities);
  prof::enableProfiler(config, activities);
  step();
  const auto result = prof::disableProfiler();
  if (!trace.empty()) result->save(trace);

  struct Span {
    uint64_t start, end;
    std::string name;
  };
  std::map<uint64_t, std::vector<Span>> cpu_ops;  // by thread
  std::map<std::string, ProfileRow> rows;
  for (const auto& e : result->events()) {
    const std::string name = e.name();
    if (cuda) {
      if (e.deviceType() != c10::DeviceType::CUDA) continue;
      ProfileRow& r = rows[short_name(name)];
      r.count += 1;
      r.ms += static_cast<double>(e.durationNs()) * 1e-6;
    } else if (name.rfind("aten::", 0) == 0 || name.rfind("xlstm::", 0) == 0) {
      cpu_ops[e.startThreadId()].push_back({e.startNs(), e.endNs(), name});
    }
  }
  for (auto& [thread, spans] : cpu_ops) {
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
      return a.start != b.start ? a.start < b.start : a.end > b.end;
    });
    uint64_t covered_until = 0;  // end of the outermost op in progress
    for (const Span& s : spans) {
      if (s.start < covered_until) continue;  // nested in an op already counted
      covered_until = s.end;
      ProfileRow& r = rows[s.name];
      r.count += 1;
      r.ms += static_cast<double>(s.end - s.start) * 1e-6;
    }
  }
  std::vector<ProfileRow> sorted;
  for (auto& [name, row] : rows) {
    row.name = name;
    sorted.push_back(row);
  }
  std::sort(sorted.begin(), sorted.end(), [](const ProfileRow& a, const ProfileRow& b) { return a.ms > b.ms; });
  return sorted;
}

// A markdown table of the `top` largest rows, the rest as one row, and the total.
inline std::string profile_table(const std::vector<ProfileRow>& rows, size_t top, bool cuda) {
  double total = 0.0;
  for (const auto& r : rows) total += r.ms;
  std::string out = std::string("| ") + (cuda ? "GPU activity" : "CPU op (outermost)") +
                    " | calls | ms | share |\n|---|---:|---:|---:|\n";
  const auto line = [&](const ProfileRow& r) {
    char text[256];
    std::snprintf(text, sizeof text, "| %s | %lld | %.3f | %.1f%% |\n", r.name.c_str(), static_cast<long long>(r.count),
                  r.ms, total > 0 ? 100.0 * r.ms / total : 0.0);
    out += text;
  };
  ProfileRow rest{"(the rest)", 0, 0.0};
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i < top) {
      line(rows[i]);
    } else {
      rest.count += rows[i].count;
      rest.ms += rows[i].ms;
    }
  }
  if (rest.count > 0) line(rest);
  char text[64];
  std::snprintf(text, sizeof text, "| total | | %.3f | |\n", total);
  return out + text;
}

}  // namespace xlstm_bench
