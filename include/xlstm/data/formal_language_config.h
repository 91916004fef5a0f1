// Configuration of the formal-language datasets (the reference's FormLangDatasetConfig,
// xlstm-spec.md §8.1): the task, its generator parameters, split sizes and per-split overrides, and
// how an item is built from a generated sequence (mask, shift, extra tokens).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xlstm/config.h"
#include "xlstm/data/split_config.h"

namespace xlstm::data {

// Generator parameters a `subpar` entry may change for one split part (unset = the dataset's value).
struct FormLangOverrides {
  std::optional<int64_t> min_sequence_length;
  std::optional<int64_t> max_sequence_length;
  std::optional<int64_t> context_length;
  std::optional<int64_t> max_step_size;

  template <class V>
  void fields(V&& v) {
    v("min_sequence_length", min_sequence_length, FieldKind::user);
    v("max_sequence_length", max_sequence_length, FieldKind::user);
    v("context_length", context_length, FieldKind::user);
    v("max_step_size", max_step_size, FieldKind::user);
  }
};

// The generator parameters of one split part after the overrides (xlstm/data/formal_tasks.h).
struct FormalTaskParams {
  std::string task;
  int64_t vocab_size = 0;  // of the task itself: the dataset's vocab_size minus the additional tokens
  int64_t min_sequence_length = 0;
  int64_t max_sequence_length = 0;
  int64_t context_length = 0;
  int64_t max_step_size = 1;
};

struct FormLangDatasetConfig {
  static constexpr const char* kName = "form_language";  // dataset.name of configs holding this

  std::string synth_lang_type = "parity";  // parity | even_pairs | cycle_navigation | modular_arithmetic
  int64_t vocab_size = 3;
  std::optional<int64_t> min_sequence_length;  // null: max_sequence_length
  std::optional<int64_t> max_sequence_length;  // null: context_length
  int64_t context_length = 20;
  int64_t max_step_size = 1;  // cycle_navigation only
  int64_t seed = 42;
  SplitCounts count;
  std::vector<std::pair<std::string, FormLangOverrides>> subpar;
  int64_t shift = 1;          // input = seq[:-shift], target = seq[shift:] (negative: the other way)
  bool enable_mask = false;   // true: the answer is hidden in the input and the only target
  int64_t additional_prefix_tokens = 0;   // extra token ids before every sequence
  int64_t additional_suffix_tokens = 0;   // ... after every sequence
  int64_t additional_premask_tokens = 0;  // ... before every answer

  void post_init() {}
  void validate(const std::string& path = "") const;

  std::vector<std::string> split_parts() const { return data::split_parts(count, part_names(subpar)); }
  // The generator parameters of one part (a name from split_parts()).
  FormalTaskParams task_params(const std::string& part) const;
  int64_t part_count(const std::string& part) const { return data::part_count(count, part); }
  // Length of an item's input and target: context_length (of the part) plus the additional tokens,
  // minus |shift|.
  int64_t item_length(const std::string& part) const;

  template <class V>
  void fields(V&& v) {
    v("synth_lang_type", synth_lang_type, FieldKind::user);
    v("vocab_size", vocab_size, FieldKind::user);
    v("min_sequence_length", min_sequence_length, FieldKind::user);
    v("max_sequence_length", max_sequence_length, FieldKind::user);
    v("context_length", context_length, FieldKind::user);
    v("max_step_size", max_step_size, FieldKind::user);
    v("seed", seed, FieldKind::user);
    v("count", count, FieldKind::user);
    v("subpar", subpar, FieldKind::user);
    v("shift", shift, FieldKind::user);
    v("enable_mask", enable_mask, FieldKind::user);
    v("additional_prefix_tokens", additional_prefix_tokens, FieldKind::user);
    v("additional_suffix_tokens", additional_suffix_tokens, FieldKind::user);
    v("additional_premask_tokens", additional_premask_tokens, FieldKind::user);
  }
};

}  // namespace xlstm::data
