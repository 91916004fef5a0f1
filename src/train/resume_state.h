// What a training checkpoint carries besides model, optimizer and step, as the string metadata of
// xlstm/io/checkpoint.h: the train-metric sums of the unfinished log interval, the wall time so far
// and the state of torch's random generators (dropout), so that a resumed run logs and computes what
// the uninterrupted run would have.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>

namespace xlstm::train {

struct IntervalSums {
  double loss = 0;  // sum of per-step mean losses
  int64_t correct = 0, count = 0, steps = 0, tokens = 0;
};

struct ResumeState {
  IntervalSums sums;
  double elapsed_seconds = 0;  // wall time of the run up to the checkpoint, over all its parts
};

std::map<std::string, std::string> resume_metadata(const ResumeState& state, const torch::Device& device);

// Restores the state and the generators from `metadata` of the checkpoint at `dir` (CheckpointError
// naming it when an entry is missing or malformed).
ResumeState restore_from_metadata(const std::map<std::string, std::string>& metadata, const torch::Device& device,
                                  const std::string& dir);

// Moves the optimizer's state tensors (loaded on the CPU) to `device`.
void move_optimizer_state(torch::optim::Optimizer& optimizer, const torch::Device& device);

}  // namespace xlstm::train
