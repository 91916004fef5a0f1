// The formal-language datasets (the reference's FormLangDatasetGenerator / FormLangDataset,
// xlstm-spec.md §8.1): one dataset per split part, examples generated on demand from their index.
//
// An item is built from a generated sequence as the reference builds it: the additional prefix and
// suffix tokens around it and the premask tokens before the answer (ids at the top of the vocabulary:
// prefix, suffix, premask); with enable_mask the answer is replaced by pad (0) in the input and is the
// only target (-1 elsewhere), else input and target are the sequence; then, for shift = 1,
// input = seq[:-1] and target = seq[1:], so the model emits the answer while reading the last content
// token.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xlstm/data/sequence_dataset.h"
#include "xlstm/data/formal_language_config.h"
#include "xlstm/data/formal_tasks.h"

namespace xlstm::data {

class FormLangDataset : public SequenceDataset {
 public:
  // `config` must be valid; `part` one of config.split_parts().
  FormLangDataset(const FormLangDatasetConfig& config, const std::string& part, uint64_t base_seed);

  int64_t size() const override { return count_; }
  int64_t sequence_length() const override { return length_; }
  Example get(int64_t index) const override;
  int64_t ignore_index() const override { return -1; }
  // 1 / num_answer_classes with enable_mask; 1 / vocab_size (every token is a target) without.
  double chance_accuracy() const override;
  std::string description() const override;

  // The generated sequence of example `index`, before the item is built from it.
  FormalSequence sequence(int64_t index) const;
  const FormalTaskParams& params() const { return params_; }

 private:
  FormLangDatasetConfig config_;
  FormalTaskParams params_;
  const FormalTask* task_;
  int64_t count_;
  int64_t length_;
  uint64_t base_seed_;
};

// Every split part of `config` (train, validation*, test*) as a dataset, seeded by part_base_seeds.
std::vector<NamedDataset> form_lang_splits(const FormLangDatasetConfig& config);

}  // namespace xlstm::data
