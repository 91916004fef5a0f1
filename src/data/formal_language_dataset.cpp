// FormLangDataset: on-demand generation of a formal-language example and the reference's item layout.
#include "xlstm/data/formal_language_dataset.h"

#include <memory>
#include <stdexcept>

namespace xlstm::data {

FormLangDataset::FormLangDataset(const FormLangDatasetConfig& config, const std::string& part, uint64_t base_seed)
    : config_(config),
      params_(config.task_params(part)),
      task_(&formal_task(params_.task)),
      count_(config.part_count(part)),
      length_(config.item_length(part)),
      base_seed_(base_seed) {}

FormalSequence FormLangDataset::sequence(int64_t index) const {
  if (index < 0 || index >= count_)
    throw std::out_of_range("example " + std::to_string(index) + " of a dataset of " + std::to_string(count_));
  Rng rng(base_seed_ + static_cast<uint64_t>(index));
  return task_->generate(params_, rng);
}

Example FormLangDataset::get(int64_t index) const {
  const FormalSequence seq = sequence(index);
  const auto& c = config_;
  const int64_t prefix_id = c.vocab_size - c.additional_prefix_tokens - c.additional_suffix_tokens -
                            c.additional_premask_tokens;
  const int64_t suffix_id = c.vocab_size - c.additional_suffix_tokens - c.additional_premask_tokens;
  const int64_t premask_id = c.vocab_size - c.additional_premask_tokens;

  std::vector<int64_t> tokens;
  std::vector<uint8_t> mask;
  for (int64_t i = 0; i < c.additional_prefix_tokens; ++i) tokens.push_back(prefix_id + i), mask.push_back(0);
  for (size_t t = 0; t < seq.tokens.size(); ++t) {
    if (seq.mask[t])
      for (int64_t i = 0; i < c.additional_premask_tokens; ++i) tokens.push_back(premask_id + i), mask.push_back(0);
    tokens.push_back(seq.tokens[t]);
    mask.push_back(seq.mask[t]);
  }
  for (int64_t i = 0; i < c.additional_suffix_tokens; ++i) tokens.push_back(suffix_id + i), mask.push_back(0);

  std::vector<int64_t> input(tokens.size()), target(tokens.size());
  for (size_t t = 0; t < tokens.size(); ++t) {
    input[t] = c.enable_mask && mask[t] ? 0 : tokens[t];
    target[t] = !c.enable_mask || mask[t] ? tokens[t] : ignore_index();
  }
  const auto shift = static_cast<std::ptrdiff_t>(c.shift);
  if (shift > 0) {
    input.erase(input.end() - shift, input.end());
    target.erase(target.begin(), target.begin() + shift);
  } else if (shift < 0) {
    input.erase(input.begin(), input.begin() - shift);
    target.erase(target.end() + shift, target.end());
  }
  return {std::move(input), std::move(target)};
}

double FormLangDataset::chance_accuracy() const {
  return 1.0 / static_cast<double>(config_.enable_mask ? num_answer_classes(params_) : config_.vocab_size);
}

std::string FormLangDataset::description() const {
  return params_.task + ", lengths " + std::to_string(params_.min_sequence_length) + "-" +
         std::to_string(params_.max_sequence_length);
}

std::vector<NamedDataset> form_lang_splits(const FormLangDatasetConfig& config) {
  const auto parts = config.split_parts();
  const auto seeds = part_base_seeds(config.seed, parts.size());
  std::vector<NamedDataset> splits;
  for (size_t i = 0; i < parts.size(); ++i)
    splits.push_back({parts[i], std::make_shared<FormLangDataset>(config, parts[i], seeds[i])});
  return splits;
}

}  // namespace xlstm::data
