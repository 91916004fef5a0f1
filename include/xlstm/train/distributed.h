// Data-parallel training on c10d, LibTorch's collective-communication layer: one process per device,
// joined through a TCPStore (or FileStore) rendezvous into a process group of the gloo backend (CPU
// tensors) or nccl (CUDA tensors, one GPU per process). The ranks come from the environment that
// torchrun and xlstm's launcher (launcher.h) set — RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT — or from explicit values.
//
// What the Trainer does with a context (RunOptions::distributed): parameters and buffers broadcast
// from rank 0 at start; rank r trains on its slice of every global batch (shard_of); gradients
// averaged over the ranks in buckets while the backward pass runs (gradient_reducer.h); only rank 0
// logs, evaluates and writes files. A run with world size W and per-rank batch B/W computes what one
// process computes with batch B, and a checkpoint resumes with any world size.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace xlstm::train {

// Bad distributed settings and failed rendezvous; the message names the variable or option and value.
class DistributedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DistributedOptions {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;              // the GPU of this process (cuda:local_rank) with nccl
  std::string backend = "auto";    // gloo | nccl | auto (nccl for a CUDA device, gloo otherwise)
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;         // the TCPStore of rank 0
  std::string store_file;          // non-empty: rendezvous through this file (FileStore), not TCP
  bool external_store = false;     // the TCPStore server runs elsewhere (torchrun's agent): rank 0 connects
  std::string store_prefix = "xlstm";  // of this job's keys in the store
  double timeout_seconds = 1800;   // of the rendezvous and of every collective

  // DistributedError naming the field and value.
  void validate() const;
};

// The options of the environment torchrun sets: RANK, WORLD_SIZE, LOCAL_RANK (default: RANK),
// MASTER_ADDR (default 127.0.0.1), MASTER_PORT (default 29500), TORCHELASTIC_USE_AGENT_STORE=True
// (torchrun's agent serves the TCPStore) with TORCHELASTIC_RESTART_COUNT (keys of this attempt), and
// xlstm's XLSTM_DIST_BACKEND (gloo | nccl | auto) and XLSTM_DIST_STORE_FILE (FileStore rendezvous). nullopt when WORLD_SIZE is
// not set (a single-process run). DistributedError naming the variable and its value when a value is
// not an integer in range, or RANK is missing. `getenv` is for tests.
std::optional<DistributedOptions> distributed_options_from_env(
    const std::function<const char*(const char*)>& getenv = [](const char* name) { return std::getenv(name); });

// Whether this build can create process groups of `backend` ("gloo": the build found gloo's headers;
// "nccl": the CUDA build).
bool backend_available(const std::string& backend);

// Rank r's part of a global batch of `count` examples starting at `first`: [first + count·r/W,
// first + count·(r+1)/W), contiguous and disjoint, sizes differing by at most one.
struct Shard {
  int64_t first = 0, count = 0;
};
Shard shard_of(int64_t first, int64_t count, int rank, int world_size);

class DistributedContext {
 public:
  // Joins the rendezvous of options.world_size processes and creates the process group. `device`
  // ("cuda", "cpu" or "auto", as training.device) decides the backend when it is "auto"; with a CUDA
  // device the process uses cuda:local_rank. Blocks until every rank has joined or the timeout.
  static std::shared_ptr<DistributedContext> create(const DistributedOptions& options, const std::string& device);
  ~DistributedContext();
  DistributedContext(const DistributedContext&) = delete;
  DistributedContext& operator=(const DistributedContext&) = delete;

  int rank() const { return options_.rank; }
  int world_size() const { return options_.world_size; }
  int local_rank() const { return options_.local_rank; }
  bool is_main() const { return options_.rank == 0; }
  const std::string& backend() const { return backend_; }  // gloo or nccl
  const torch::Device& device() const { return device_; }

  // Copies rank 0's parameters and buffers of `module` (on device()) into every other rank's.
  void broadcast_from_main(torch::nn::Module& module);
  // Sums `tensor` (on device()) over the ranks in place; blocks until done.
  void all_reduce_sum(torch::Tensor& tensor);
  // Returns once every rank has called it.
  void barrier();

  struct Impl;  // the c10d store and backend (src/train/distributed_impl.h)
  Impl& impl() { return *impl_; }

 private:
  DistributedContext(DistributedOptions options, std::string backend, torch::Device device, std::unique_ptr<Impl> impl);
  DistributedOptions options_;
  std::string backend_;
  torch::Device device_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xlstm::train
