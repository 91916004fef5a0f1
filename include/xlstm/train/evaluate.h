// Evaluation of a model on a dataset (the reference's validation loop: eval mode, no gradients,
// autocast as in training) and the table of results printed at the end of a run.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xlstm/data/sequence_dataset.h"
#include "xlstm/train/trainable.h"

namespace xlstm::train {

struct SplitResult {
  std::string name;
  std::string description;  // the dataset's, e.g. "parity, lengths 40-256"
  int64_t examples = 0;
  int64_t targets = 0;
  double loss = 0;      // mean cross-entropy over all targets of the split
  double accuracy = 0;  // correct argmax over all targets (micro average, the reference's metric)
  double chance = 0;    // the dataset's chance_accuracy()
  // (accuracy - chance) / (1 - chance): 0 = guessing, 1 = perfect (the xLSTM paper's rescaling)
  double rescaled_accuracy() const;
  double perplexity() const;  // exp(loss)
};

// trim_padding: each batch without its trailing positions that have no target (data::trim_to_last_target;
// the same results for causal models).
SplitResult evaluate(TrainableModel& model, const data::NamedDataset& split, int64_t batch_size,
                     const torch::Device& device, std::optional<torch::ScalarType> amp_dtype,
                     bool trim_padding = false);

// A Markdown table: split, data, examples, loss, accuracy, rescaled accuracy.
std::string results_table(const std::vector<SplitResult>& results);

}  // namespace xlstm::train
