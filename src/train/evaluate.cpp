// evaluate() and results_table().
#include "xlstm/train/evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "xlstm/train/autocast.h"
#include "xlstm/train/step.h"

namespace xlstm::train {

double SplitResult::rescaled_accuracy() const { return chance < 1 ? (accuracy - chance) / (1 - chance) : 0.0; }
double SplitResult::perplexity() const { return std::exp(loss); }

SplitResult evaluate(TrainableModel& model, const data::NamedDataset& split, int64_t batch_size,
                     const torch::Device& device, std::optional<torch::ScalarType> amp_dtype, bool trim_padding) {
  const data::SequenceDataset& dataset = *split.data;
  model.module->eval();
  torch::NoGradGuard no_grad;
  double loss_sum = 0;
  int64_t correct = 0, targets = 0;
  for (int64_t first = 0; first < dataset.size(); first += batch_size) {
    data::Batch cpu = data::make_batch(dataset, first, std::min(batch_size, dataset.size() - first));
    if (trim_padding) cpu = data::trim_to_last_target(cpu, dataset.ignore_index());
    const auto inputs = cpu.inputs.to(device), labels = cpu.targets.to(device);
    torch::Tensor logits;
    {
      AutocastGuard autocast(device, amp_dtype);
      logits = model.logits(inputs);
    }
    const MaskedLoss batch = masked_loss(logits, labels, dataset.ignore_index());
    const auto count = batch.count.item<int64_t>();
    if (count == 0) continue;
    loss_sum += batch.loss.item<double>() * static_cast<double>(count);
    correct += batch.correct.item<int64_t>();
    targets += count;
  }
  SplitResult result;
  result.name = split.name;
  result.description = dataset.description();
  result.examples = dataset.size();
  result.targets = targets;
  result.loss = targets ? loss_sum / static_cast<double>(targets) : 0.0;
  result.accuracy = targets ? static_cast<double>(correct) / static_cast<double>(targets) : 0.0;
  result.chance = dataset.chance_accuracy();
  return result;
}

std::string results_table(const std::vector<SplitResult>& results) {
  std::string table =
      "| split | data | examples | loss | accuracy | rescaled accuracy |\n"
      "|---|---|---:|---:|---:|---:|\n";
  char row[512];
  for (const auto& r : results) {
    std::snprintf(row, sizeof row, "| %s | %s | %lld | %.4f | %.4f | %.4f |\n", r.name.c_str(), r.description.c_str(),
                  static_cast<long long>(r.examples), r.loss, r.accuracy, r.rescaled_accuracy());
    table += row;
  }
  return table;
}

}  // namespace xlstm::train
