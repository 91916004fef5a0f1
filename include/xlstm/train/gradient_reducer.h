// The gradient all-reduce of data-parallel training (what PyTorch's DistributedDataParallel does):
// the parameters' gradients averaged over the ranks in flat buckets of about `bucket_bytes`, one
// dtype per bucket, filled in reverse parameter order (roughly the order in which backward produces
// the gradients). With `overlap`, an autograd post-accumulate-grad hook on each parameter copies its
// gradient into its bucket and a full bucket's asynchronous all-reduce starts while backward goes on
// (buckets always start in the same order on every rank); without, every bucket is filled and
// reduced after backward. finish() waits for the reductions and writes the averages back as the
// parameters' gradients.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xlstm/train/distributed.h"

namespace xlstm::train {

struct GradientReducerOptions {
  int64_t bucket_bytes = 25 << 20;  // PyTorch DDP's default bucket_cap_mb = 25
  bool overlap = true;              // all-reduce during backward (hooks) or after it
};

class GradientReducer {
 public:
  // `parameters` (name, tensor) on context->device(), the same list on every rank; those that do not
  // require grad are left out.
  GradientReducer(std::shared_ptr<DistributedContext> context,
                  const std::vector<std::pair<std::string, torch::Tensor>>& parameters,
                  GradientReducerOptions options = {});
  ~GradientReducer();  // removes the hooks
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Before each backward pass.
  void prepare();
  // After it: every parameter's gradient becomes the mean over the ranks. A parameter that received
  // no gradient in this rank's backward pass is an error (DistributedError naming it), as in DDP
  // without find_unused_parameters: data-parallel training needs every parameter in every step.
  void finish();

  DistributedContext& context() { return *context_; }
  int64_t bucket_count() const;

  struct State;

 private:
  std::shared_ptr<DistributedContext> context_;
  std::unique_ptr<State> s_;
};

}  // namespace xlstm::train
