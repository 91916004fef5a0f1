// The table of formal-language tasks, their answer counts and the checks of their parameters.
#include "xlstm/data/formal_tasks.h"

#include <algorithm>
#include <stdexcept>

#include "config/validate_checks.h"

namespace xlstm::data {

const std::vector<FormalTask>& formal_tasks() {
  // Smallest vocabularies: parity and even_pairs need tokens 1 and 2; cycle_navigation a cycle of two
  // positions after the pad and the three step tokens; modular_arithmetic two numbers after pad and
  // the four operators. Shortest sizes: even_pairs reads x_0 and x_{size-2} as different positions
  // of the reference's difference array, modular_arithmetic needs "n = answer".
  static const std::vector<FormalTask> tasks{
      {"parity", &parity, 3, 1},
      {"even_pairs", &even_pairs, 3, 3},
      {"cycle_navigation", &cycle_navigation, 6, 1},
      {"modular_arithmetic", &modular_arithmetic, 7, 3},
  };
  return tasks;
}

std::vector<std::string> formal_task_names() {
  std::vector<std::string> names;
  for (const auto& task : formal_tasks()) names.push_back(task.name);
  return names;
}

const FormalTask& formal_task(const std::string& name) {
  for (const auto& task : formal_tasks())
    if (task.name == name) return task;
  throw std::invalid_argument("unknown formal-language task '" + name + "'");
}

int64_t num_answer_classes(const FormalTaskParams& p) {
  if (p.task == "cycle_navigation") return p.vocab_size - 2 - 2 * std::min(p.vocab_size / 2, p.max_step_size);
  if (p.task == "modular_arithmetic") return p.vocab_size - 5;
  return p.vocab_size - 1;  // parity, even_pairs
}

void check_formal_task_params(const FormalTaskParams& p, const std::function<std::string(const std::string&)>& path_of) {
  using config_detail::check_one_of;
  check_one_of(path_of("task"), p.task, formal_task_names());
  const FormalTask& task = formal_task(p.task);
  const auto fail = [&](const std::string& field, int64_t value, const std::string& why) {
    throw ConfigError(path_of(field), std::to_string(value) + " " + why);
  };
  if (p.vocab_size < task.min_vocab_size)
    fail("vocab_size", p.vocab_size,
         "is too small for " + p.task + " (needs >= " + std::to_string(task.min_vocab_size) + ", after the additional tokens)");
  if (p.task == "cycle_navigation") {
    if (p.max_step_size < 1) fail("max_step_size", p.max_step_size, "must be >= 1");
    if (num_answer_classes(p) < 2)
      fail("vocab_size", p.vocab_size,
           "leaves a cycle of " + std::to_string(num_answer_classes(p)) +
               " positions (vocab_size - 2 - 2 * max_step_size); cycle_navigation needs >= 2");
  }
  if (p.context_length < 1) fail("context_length", p.context_length, "must be positive");
  if (p.min_sequence_length < task.min_sequence_length)
    fail("min_sequence_length", p.min_sequence_length,
         "is below the shortest " + p.task + " sequence (" + std::to_string(task.min_sequence_length) + ")");
  if (p.max_sequence_length < p.min_sequence_length)
    fail("max_sequence_length", p.max_sequence_length,
         "is below min_sequence_length " + std::to_string(p.min_sequence_length));
  if (p.max_sequence_length > p.context_length)
    fail("max_sequence_length", p.max_sequence_length, "exceeds context_length " + std::to_string(p.context_length));
}

}  // namespace xlstm::data
