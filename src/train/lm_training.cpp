// Language-model training on token files (lm_training.h).
#include "xlstm/train/lm_training.h"

#include <cstdio>
#include <numeric>

#include "xlstm/data/error.h"
#include "xlstm/lm_model.h"
#include "xlstm/tokenizer/tokenizer.h"
#include "xlstm/train/progress.h"
#include "xlstm/train/run_report.h"

namespace xlstm::train {
namespace {

void check_vocabulary(const std::string& source, int64_t vocab_size, int64_t expected) {
  if (vocab_size != expected)
    throw data::DataError(source + ": a vocabulary of " + std::to_string(vocab_size) +
                          " tokens, but dataset.kwargs.vocab_size is " + std::to_string(expected));
}

data::TokenDataset open_token_file(const std::string& path, int64_t vocab_size) {
  data::TokenDataset tokens(path);
  check_vocabulary(path, tokens.vocab_size(), vocab_size);
  return tokens;
}

std::string results_row_table(const std::string& name, int64_t parameters, int64_t budget, const TrainResult& result) {
  const double loss = result.final_results.empty() ? 0.0 : result.final_results.front().loss;
  const double perplexity = result.final_results.empty() ? 0.0 : result.final_results.front().perplexity();
  const double tokens_per_s =
      result.train_seconds > 0 ? static_cast<double>(result.train_tokens) / result.train_seconds : 0.0;
  char row[512];
  std::snprintf(row, sizeof row, "| %s | %s | %s | %.4f | %.2f | %s | %s |\n", name.c_str(),
                format_thousands(static_cast<double>(parameters)).c_str(), format_thousands(static_cast<double>(budget)).c_str(),
                loss, perplexity, format_thousands(tokens_per_s).c_str(), format_duration(result.seconds).c_str());
  return std::string("| model | parameters | tokens | validation loss | validation perplexity | tokens/s | run time |\n"
                     "|---|---:|---:|---:|---:|---:|---:|\n") +
         row;
}

}  // namespace

LMDatasets open_lm_datasets(const data::TokenFilesConfig& files, const TrainingConfig& training) {
  LMDatasets sets;
  sets.train = std::make_shared<const data::TokenWindows>(
      data::TokenWindows::random(open_token_file(files.train_file, files.vocab_size), files.context_length,
                                 static_cast<uint64_t>(files.seed), training.batch_size, training.num_steps));
  sets.validation = std::make_shared<const data::TokenWindows>(
      data::TokenWindows::sequential(open_token_file(files.validation_file, files.vocab_size), files.context_length));
  return sets;
}

TrainResult train_language_model(const std::string& name, const TrainableModel& model, const TrainingConfig& training,
                                 const data::TokenFilesConfig& files, const RunOptions& options, std::ostream& out_main) {
  const bool main = !options.distributed || options.distributed->is_main();
  std::ostream discard(nullptr);  // data parallel: the ranks other than 0 print and write nothing
  std::ostream& out = main ? out_main : discard;
  const LMDatasets sets = open_lm_datasets(files, training);
  Trainer trainer(training, model, sets.train, {{"validation", sets.validation}}, {}, options, out);
  const int64_t parameters = parameter_count(*model.module);
  out << "model: " << name << ", " << format_thousands(static_cast<double>(parameters)) << " parameters | device "
      << trainer.device() << "\ntrain: " << sets.train->description() << ", " << training.num_steps << " steps of "
      << training.batch_size << "\nvalidation: " << sets.validation->description() << ", " << sets.validation->size()
      << " windows\n"
      << std::flush;
  const TrainResult result = trainer.run();
  if (result.steps < training.num_steps) {
    out << "\nstopped after step " << result.steps << " of " << training.num_steps << " (" << format_duration(result.seconds)
        << ")\n";
    return result;
  }
  const int64_t budget = training.num_steps * training.batch_size * files.context_length;
  report_results(main ? options.output_dir : "", run_summary(result), results_row_table(name, parameters, budget, result),
                 out);
  return result;
}

TrainResult run_lm_experiment(const LMExperimentConfig& config, RunOptions options, std::ostream& out) {
  options.config_yaml = to_yaml(config);
  const data::TokenFilesConfig& files = config.dataset.kwargs;
  const auto tokenizer = tokenizer::Tokenizer::from_path(files.tokenizer);
  check_vocabulary(files.tokenizer, tokenizer.vocab_size(), files.vocab_size);
  torch::manual_seed(static_cast<uint64_t>(config.training.seed));
  xLSTMLMModel model(config.model);
  model->reset_parameters();
  apply_memory_options(model, config.training);
  const std::string name = xlstm_model_name(config.model) + " (" + std::to_string(config.model.num_blocks) + " blocks, E " +
                           std::to_string(config.model.embedding_dim) + ")";
  return train_language_model(name, trainable(model), config.training, files, options, out);
}

std::string xlstm_model_name(const xLSTMLMModelConfig& config) {
  int64_t s = 0;
  for (int kind : config.block_map()) s += kind == 1;
  const int64_t m = static_cast<int64_t>(config.block_map().size()) - s;
  const int64_t g = std::gcd(m, s);
  return "xLSTM[" + std::to_string(g ? m / g : 0) + ":" + std::to_string(g ? s / g : 0) + "]";
}

}  // namespace xlstm::train
