// The formal-language tasks of the reference's experiments (data/formal_language/tasks/*.py,
// xlstm-spec.md §8.1). Each generates one sequence of `context_length` tokens: size - 1 content tokens,
// the answer at position size - 1 (mask 1 there, 0 elsewhere), zeros (pad) after it, where
// size ~ UniformInt[min_sequence_length, max_sequence_length]. Token 0 is padding.
//
//   parity              content 1..V-1; answer (Σ(x - 1) mod (V - 1)) + 1: for V = 3, 1 = even and
//                       2 = odd number of 2s
//   even_pairs          content 1..V-1; answer |x_{size-2} - x_0| + 1 (1 iff first == last)
//   cycle_navigation    steps 1..2s+1 (s = min(V/2, max_step_size); t <= s+1 moves t-1, else s+1-t);
//                       answer (Σ moves mod (V - 2 - 2s)) + 2s + 2
//   modular_arithmetic  numbers 5..V-1 (value - 5) at even positions, operators 1 '+', 2 '-', 3 '*'
//                       at odd ones, '=' (4) at size - 2, size odd; answer (value with * binding
//                       tighter) mod (V - 5) + 5
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "xlstm/data/formal_language_config.h"
#include "xlstm/data/rng.h"

namespace xlstm::data {

struct FormalSequence {
  std::vector<int64_t> tokens;  // context_length
  std::vector<uint8_t> mask;    // 1 at the answer position
};

FormalSequence parity(const FormalTaskParams& params, Rng& rng);
FormalSequence even_pairs(const FormalTaskParams& params, Rng& rng);
FormalSequence cycle_navigation(const FormalTaskParams& params, Rng& rng);
FormalSequence modular_arithmetic(const FormalTaskParams& params, Rng& rng);

struct FormalTask {
  std::string name;
  FormalSequence (*generate)(const FormalTaskParams&, Rng&);
  int64_t min_vocab_size;       // smallest vocabulary with at least two answers
  int64_t min_sequence_length;  // shortest size the definition allows
};

// The tasks by their `synth_lang_type` names, in the order above.
const std::vector<FormalTask>& formal_tasks();
std::vector<std::string> formal_task_names();
// The task called `name`; std::invalid_argument for an unknown name.
const FormalTask& formal_task(const std::string& name);

// The possible answers of the task: chance accuracy is 1 / this (V - 1; V - 1; the cycle length;
// V - 5).
int64_t num_answer_classes(const FormalTaskParams& params);

// ConfigError when the parameters do not define the task (unknown task, too small a vocabulary or
// cycle, lengths outside [task minimum, context_length], min > max); `path_of(field)` is the key path
// reported for a field of FormalTaskParams ("vocab_size", "min_sequence_length", ...).
void check_formal_task_params(const FormalTaskParams& params,
                              const std::function<std::string(const std::string&)>& path_of);

}  // namespace xlstm::data
