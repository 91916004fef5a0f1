// The training loop shared by the experiment programs (and meant for language-model training too): a
// TrainableModel, an indexable train dataset and evaluation datasets in; AdamW over the reference's
// weight-decay groups, the warm-up + cosine schedule, optional gradient clipping and autocast
// (mixed precision with fp32 master weights) per TrainingConfig; periodic validation; metrics as JSON
// lines; checkpoints and exact resumption; a live progress line.
//
// Step s (from 0) trains on batch s mod ceil(N / B) of the train dataset: examples [k·B, k·B + B),
// the last batch of a pass possibly shorter, as the reference's unshuffled DataLoader. Because every
// batch is a function of the step, a run resumed from a checkpoint continues exactly as it would have.
// With RunOptions::distributed, rank r of W trains on its shard_of that global batch, so the steps
// are those of one process over batch B whatever W is (also across a resume with another W).
//
// Files in RunOptions::output_dir:
//   metrics.jsonl  {"step", "split": "train", "loss", "accuracy", "lr", "grad_norm", "tokens_per_s",
//                  "elapsed_s" (wall time of the run, earlier parts included)} every log_every_step steps (loss and accuracy over the steps since
//                  the last record), {"step", "split": <name>, "loss", "perplexity" (exp(loss)), "accuracy", "rescaled_accuracy"}
//                  per evaluation split at each validation and at the end (test splits only there)
//   checkpoint/    the latest training checkpoint (xlstm/io/checkpoint.h), every checkpoint_every_step
//                  steps and at the end
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "xlstm/data/sequence_dataset.h"
#include "xlstm/train/distributed.h"
#include "xlstm/train/evaluate.h"
#include "xlstm/train/gradient_reducer.h"
#include "xlstm/train/trainable.h"
#include "xlstm/train/training_config.h"

namespace xlstm::train {

struct RunOptions {
  std::string output_dir;   // "" writes no files (no metrics, no checkpoints)
  bool resume = false;      // continue from output_dir/checkpoint when there is one
  bool progress = true;     // redraw a progress line on stderr when it is a terminal
  std::string config_yaml;  // stored in checkpoints; resuming requires the same text
  // Stopping early, resumable (a checkpoint is written, no final evaluation; TrainResult::steps tells
  // where): after this many steps of this process (0: no limit), or after the step during which this
  // process's wall time passes time_limit_seconds (0: no limit; not with data parallelism).
  int64_t stop_after_steps = 0;
  double time_limit_seconds = 0;
  // Data-parallel training (distributed.h): this process's rank; null for a single process. Every
  // rank runs a Trainer over the same model config and datasets; rank 0 alone prints, evaluates and
  // writes output_dir, which every rank reads when resuming (one machine, or a shared folder).
  std::shared_ptr<DistributedContext> distributed;
  GradientReducerOptions gradient_reducer;  // buckets and overlap of the gradient all-reduce
};

struct TrainResult {
  int64_t steps = 0;         // steps done in total (fewer than num_steps when stopped early)
  int64_t resumed_from = 0;  // the checkpoint's step, 0 for a fresh run
  double seconds = 0;        // wall time of the run's steps and evaluations, earlier parts included
  double train_seconds = 0;  // time in training steps (batch, forward, backward, update) alone, this process's part
  int64_t train_tokens = 0;  // input tokens of this process's steps (the whole batch of every rank)
  double first_loss = 0;     // mean train loss over this process's first log interval
  double last_loss = 0;      // ... and its last
  std::vector<SplitResult> final_results;  // validation, then test splits, after the last step
};

// "cuda", "cpu" or "auto" (cuda when available) as a device; std::runtime_error when "cuda" is asked
// for and not available.
torch::Device resolve_device(const std::string& name);

class Trainer {
 public:
  // Moves the model to the configured device and weight precision and builds the optimizer.
  Trainer(TrainingConfig config, TrainableModel model, std::shared_ptr<const data::SequenceDataset> train,
          std::vector<data::NamedDataset> validation, std::vector<data::NamedDataset> test, RunOptions options,
          std::ostream& out = std::cout);
  ~Trainer();
  TrainResult run();

  torch::optim::Optimizer& optimizer();
  const torch::Device& device() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace xlstm::train
