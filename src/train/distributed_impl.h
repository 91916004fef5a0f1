// The c10d objects behind a DistributedContext, for the library's own sources: the rendezvous store
// and the backend (gloo or nccl) whose collectives the context and the gradient reducer call, and
// the factories of the two backends (process_group_gloo.cpp, process_group_nccl.cu.cpp).
#pragma once

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include "xlstm/train/distributed.h"

namespace xlstm::train {

struct DistributedContext::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
};

std::chrono::milliseconds timeout_of(const DistributedOptions& options);

// work->wait(), its failure (a rank that stopped, a timeout) as a DistributedError naming `what`.
void wait_for(const c10::intrusive_ptr<c10d::Work>& work, const char* what);

// Defined only when the build has the backend (backend_available).
c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                                    const DistributedOptions& options);
c10::intrusive_ptr<c10d::Backend> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                                    const DistributedOptions& options);

}  // namespace xlstm::train
