// Language-model training on token files, what `xlstm train` runs (and the Transformer baseline of
// examples/lm): next-token cross-entropy on random windows of the train file (token_windows.h: step k
// trains on TokenDataset::random_batch(seed, k, B, T), so runs are deterministic and resume exactly),
// the Trainer of trainer.h (AdamW groups, warm-up + cosine schedule, clipping, autocast, checkpoints),
// validation loss and perplexity = exp(loss) over the sequential windows of the validation file at
// every val_every_step and at the end, and a one-row results table printed and written to
// <output_dir>/results.md:
//
//   | model | parameters | tokens | validation loss | validation perplexity | tokens/s | run time |
//
// tokens is the run's budget num_steps × batch_size × context_length; tokens/s the throughput of this
// process's training steps (validation and checkpoints excluded); run time the wall time of the whole
// run (earlier parts of a resumed run included). A run stopped early (RunOptions) says where it stopped
// and writes no table.
#pragma once

#include <iostream>
#include <memory>
#include <string>

#include "xlstm/data/token_files_config.h"
#include "xlstm/data/token_windows.h"
#include "xlstm/train/experiment_config.h"
#include "xlstm/train/trainer.h"

namespace xlstm::train {

struct LMDatasets {
  std::shared_ptr<const data::TokenWindows> train;       // num_steps × batch_size random windows
  std::shared_ptr<const data::TokenWindows> validation;  // the sequential windows
};

// Opens both token files. DataError naming the file when one is missing or malformed, holds fewer than
// context_length + 1 tokens, or has a vocabulary other than files.vocab_size.
LMDatasets open_lm_datasets(const data::TokenFilesConfig& files, const TrainingConfig& training);

// Trains `model` (already initialised) as described above; `name` labels the table row (e.g.
// "xLSTM[7:1]"). options.config_yaml is what checkpoints store.
TrainResult train_language_model(const std::string& name, const TrainableModel& model, const TrainingConfig& training,
                                 const data::TokenFilesConfig& files, const RunOptions& options,
                                 std::ostream& out = std::cout);

// An LM config end to end: torch seeded with training.seed, the xLSTMLMModel built and
// reset_parameters()'d, the tokenizer checked (it loads and its vocabulary is dataset.kwargs.vocab_size,
// so that `xlstm generate` can decode), then train_language_model. options.config_yaml = to_yaml(config).
TrainResult run_lm_experiment(const LMExperimentConfig& config, RunOptions options, std::ostream& out = std::cout);

// "xLSTM[a:b]": the ratio of mLSTM to sLSTM blocks in lowest terms (xLSTM[7:1], xLSTM[1:0], xLSTM[0:1]).
std::string xlstm_model_name(const xLSTMLMModelConfig& config);

}  // namespace xlstm::train
