// Where one training step spends its time: the step runs under the Kineto profiler of LibTorch, and
// the summary adds up, by name, the GPU activities (kernels, copies, memsets) on CUDA, or on the CPU
// the outermost aten::/xlstm:: ops of each thread (nested ops are counted in their caller); on CUDA
// also the GPU time by the op that launched it. Kernel names are shortened (template arguments and
// parameter lists dropped).
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

// Where a step's time went: `activities` by name (GPU kernels, copies and memsets on CUDA; on the CPU
// the outermost ops), and on CUDA `by_op`, the same GPU time by the op that launched it: "outer > inner",
// the outermost op of the launching thread (in the backward the autograd node, e.g.
// "autograd::engine::evaluate_function: MulBackward0") and the innermost op that issued the launch.
struct StepProfile {
  std::vector<ProfileRow> activities;
  std::vector<ProfileRow> by_op;
};

// Runs `step` (which must synchronise the device before it returns) under the profiler; the rows are
// sorted by time, largest first. `trace` (optional) receives the Chrome trace.
inline StepProfile profile_step(const std::function<void()>& step, bool cuda, const std::string& trace) {
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
    uint64_t start, end, correlation;
    std::string name;
  };
  const auto is_op = [](const std::string& name) {
    return name.rfind("aten::", 0) == 0 || name.rfind("xlstm::", 0) == 0 ||
           name.rfind("autograd::engine::evaluate_function", 0) == 0;
  };
  std::map<uint64_t, std::vector<Span>> cpu_ops;  // by thread
  std::vector<std::pair<uint64_t, double>> device_events;  // (linked correlation id, ms)
  std::map<std::string, ProfileRow> rows, op_rows;
  for (const auto& e : result->events()) {
    const std::string name = e.name();
    if (e.deviceType() == c10::DeviceType::CUDA) {
      if (!cuda) continue;
      const double ms = static_cast<double>(e.durationNs()) * 1e-6;
      ProfileRow& r = rows[short_name(name)];
      r.count += 1;
      r.ms += ms;
      device_events.emplace_back(e.linkedCorrelationId(), ms);
    } else if (is_op(name)) {
      cpu_ops[e.startThreadId()].push_back({e.startNs(), e.endNs(), e.correlationId(), name});
    }
  }
  // One sweep per thread: the outermost ops (their CPU time is the CPU table) and, for every op, the
  // "outer > inner" label its launches are counted under.
  std::map<uint64_t, std::string> label;  // correlation id -> label
  const std::string node = "autograd::engine::evaluate_function: ";
  for (auto& [thread, spans] : cpu_ops) {
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
      return a.start != b.start ? a.start < b.start : a.end > b.end;
    });
    const Span* outer = nullptr;  // the outermost op in progress
    for (const Span& s : spans) {
      if (outer == nullptr || s.start >= outer->end) {
        outer = &s;
        if (!cuda) {
          ProfileRow& r = rows[s.name];
          r.count += 1;
          r.ms += static_cast<double>(s.end - s.start) * 1e-6;
        }
      }
      std::string name = outer == &s ? s.name : outer->name + " > " + s.name;
      if (name.rfind(node, 0) == 0) name = "backward: " + name.substr(node.size());
      label[s.correlation] = name;
    }
  }
  for (const auto& [linked, ms] : device_events) {
    const auto it = label.find(linked);
    ProfileRow& r = op_rows[it == label.end() ? "(no launching op recorded)" : it->second];
    r.count += 1;
    r.ms += ms;
  }
  const auto sorted = [](std::map<std::string, ProfileRow>& by_name) {
    std::vector<ProfileRow> out;
    for (auto& [name, row] : by_name) {
      row.name = name;
      out.push_back(row);
    }
    std::sort(out.begin(), out.end(), [](const ProfileRow& a, const ProfileRow& b) { return a.ms > b.ms; });
    return out;
  };
  return {sorted(rows), sorted(op_rows)};
}

// A markdown table of the `top` largest rows, the rest as one row, and the total.
inline std::string profile_table(const std::vector<ProfileRow>& rows, size_t top, const std::string& heading) {
  double total = 0.0;
  for (const auto& r : rows) total += r.ms;
  std::string out = "| " + heading + " | calls | ms | share |\n|---|---:|---:|---:|\n";
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
