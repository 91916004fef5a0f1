// FormLangDatasetConfig: the generator parameters of each split part and validate().
#include <cstdlib>

#include "config/detail.h"
#include "config/validate_checks.h"
#include "config/yaml_scalars.h"
#include "xlstm/data/formal_tasks.h"

namespace xlstm::data {
FormalTaskParams FormLangDatasetConfig::task_params(const std::string& part) const {
  FormalTaskParams p;
  p.task = synth_lang_type;
  p.vocab_size = vocab_size - additional_prefix_tokens - additional_suffix_tokens - additional_premask_tokens;
  p.context_length = context_length;
  p.max_step_size = max_step_size;
  std::optional<int64_t> min_length = min_sequence_length, max_length = max_sequence_length;
  if (const FormLangOverrides* o = find_part(subpar, part)) {
    if (o->min_sequence_length) min_length = o->min_sequence_length;
    if (o->max_sequence_length) max_length = o->max_sequence_length;
    if (o->context_length) p.context_length = *o->context_length;
    if (o->max_step_size) p.max_step_size = *o->max_step_size;
  }
  // As the task functions: max defaults to context_length, min to max.
  p.max_sequence_length = max_length.value_or(p.context_length);
  p.min_sequence_length = min_length.value_or(p.max_sequence_length);
  return p;
}

int64_t FormLangDatasetConfig::item_length(const std::string& part) const {
  return task_params(part).context_length + additional_prefix_tokens + additional_suffix_tokens +
         additional_premask_tokens - std::abs(shift);
}

void FormLangDatasetConfig::validate(const std::string& path) const {
  using namespace config_detail;
  check_one_of(join(path, "synth_lang_type"), synth_lang_type, formal_task_names());
  check_positive(join(path, "vocab_size"), vocab_size);
  check_non_negative(join(path, "additional_prefix_tokens"), additional_prefix_tokens);
  check_non_negative(join(path, "additional_suffix_tokens"), additional_suffix_tokens);
  check_non_negative(join(path, "additional_premask_tokens"), additional_premask_tokens);
  validate_splits(path, count, part_names(subpar));
  for (const auto& part : split_parts()) {
    const auto path_of = [&](const std::string& field) {
      return field == "task" ? join(path, "synth_lang_type") : part_field_path(path, subpar, part, field);
    };
    check_formal_task_params(task_params(part), path_of);
    if (item_length(part) < 1)
      throw ConfigError(join(path, "shift"), show(shift) + " leaves no tokens of the " + format_string(part) +
                                                 " sequences (length " + show(item_length(part) + std::abs(shift)) + ")");
  }
}

}  // namespace xlstm::data
