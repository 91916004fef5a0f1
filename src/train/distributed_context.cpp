// DistributedContext: the rendezvous (TCPStore or FileStore), the process group, and the blocking
// collectives of the trainer (broadcast of the module, sums of step statistics, barrier).
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <map>

#include "distributed_impl.h"
#include "xlstm/train/trainer.h"

namespace xlstm::train {
namespace {

std::string endpoint(const DistributedOptions& o) {
  return o.store_file.empty() ? "MASTER_ADDR=" + o.master_addr + " MASTER_PORT=" + std::to_string(o.master_port)
                              : "store file " + o.store_file;
}

c10::intrusive_ptr<c10d::Store> rendezvous(const DistributedOptions& o) {
  if (!o.store_file.empty()) return c10::make_intrusive<c10d::FileStore>(o.store_file, o.world_size);
  c10d::TCPStoreOptions tcp;
  tcp.port = static_cast<uint16_t>(o.master_port);
  tcp.isServer = o.rank == 0 && !o.external_store;
  tcp.numWorkers = static_cast<size_t>(o.world_size);
  tcp.waitWorkers = true;
  tcp.timeout = timeout_of(o);
  return c10::make_intrusive<c10d::TCPStore>(o.master_addr, tcp);
}

c10::intrusive_ptr<c10d::Backend> make_backend(const std::string& backend, const c10::intrusive_ptr<c10d::Store>& store,
                                               const DistributedOptions& o) {
  if (!backend_available(backend))
    throw DistributedError("backend " + backend + " is not part of this build (" +
                           (backend == "nccl" ? "nccl needs the CUDA build, XLSTM_CUDA=ON"
                                              : "gloo needs gloo's headers at build time: Debian's libgloo-dev, or "
                                                "XLSTM_GLOO_INCLUDE_DIR") +
                           ")");
#if XLSTM_WITH_GLOO
  if (backend == "gloo") return make_gloo_backend(store, o);
#endif
#if XLSTM_WITH_CUDA
  if (backend == "nccl") return make_nccl_backend(store, o);
#endif
  throw DistributedError("backend " + backend + " is not part of this build");
}

// Tensors grouped by dtype, each group in one flat buffer: one collective per dtype.
std::map<torch::ScalarType, std::vector<torch::Tensor>> by_dtype(const std::vector<torch::Tensor>& tensors) {
  std::map<torch::ScalarType, std::vector<torch::Tensor>> groups;
  for (const auto& t : tensors) groups[t.scalar_type()].push_back(t);
  return groups;
}

}  // namespace

void wait_for(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
  try {
    work->wait();
  } catch (const c10::Error& e) {
    throw DistributedError(std::string(what) + " failed (did another rank stop?): " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw DistributedError(std::string(what) + " failed (did another rank stop?): " + e.what());
  }
}

std::chrono::milliseconds timeout_of(const DistributedOptions& options) {
  return std::chrono::milliseconds(static_cast<int64_t>(options.timeout_seconds * 1000));
}

bool backend_available(const std::string& backend) {
  if (backend == "gloo") return XLSTM_WITH_GLOO;
  if (backend == "nccl") return XLSTM_WITH_CUDA;
  return false;
}

std::shared_ptr<DistributedContext> DistributedContext::create(const DistributedOptions& options,
                                                               const std::string& device_name) {
  options.validate();
  torch::Device device = resolve_device(device_name);
  const std::string backend = options.backend != "auto" ? options.backend : device.is_cuda() ? "nccl" : "gloo";
  if (backend == "nccl" && !device.is_cuda())
    throw DistributedError("backend nccl needs a CUDA device, but training.device is \"" + device_name + "\"");
  if (backend == "gloo" && device.is_cuda())
    throw DistributedError("backend gloo runs on the CPU, but training.device is \"" + device_name +
                           "\" (use nccl for GPUs, or training.device=cpu)");
  if (device.is_cuda()) {
    const int gpus = static_cast<int>(torch::cuda::device_count());
    if (options.local_rank >= gpus)
      throw DistributedError("LOCAL_RANK=" + std::to_string(options.local_rank) + " but this machine has " +
                             std::to_string(gpus) + " CUDA device(s)");
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(options.local_rank));
  }
  auto impl = std::make_unique<Impl>();
  const auto failed = [&](const std::string& why) {
    return DistributedError("rank " + std::to_string(options.rank) + " of " + std::to_string(options.world_size) +
                            ": rendezvous at " + endpoint(options) + " failed: " + why);
  };
  try {
    impl->store = c10::make_intrusive<c10d::PrefixStore>(options.store_prefix, rendezvous(options));
    impl->backend = make_backend(backend, impl->store, options);
  } catch (const DistributedError&) {
    throw;
  } catch (const c10::Error& e) {
    throw failed(e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw failed(e.what());
  }
  return std::shared_ptr<DistributedContext>(new DistributedContext(options, backend, device, std::move(impl)));
}

DistributedContext::DistributedContext(DistributedOptions options, std::string backend, torch::Device device,
                                       std::unique_ptr<Impl> impl)
    : options_(std::move(options)), backend_(std::move(backend)), device_(device), impl_(std::move(impl)) {}

DistributedContext::~DistributedContext() {
  if (impl_ && impl_->backend) impl_->backend->shutdown();
}

void DistributedContext::broadcast_from_main(torch::nn::Module& module) {
  std::vector<torch::Tensor> tensors = module.parameters();
  for (const auto& b : module.buffers()) tensors.push_back(b);
  torch::NoGradGuard no_grad;
  for (auto& [dtype, group] : by_dtype(tensors)) {
    std::vector<torch::Tensor> flat_parts;
    for (const auto& t : group) flat_parts.push_back(t.reshape({-1}));
    std::vector<torch::Tensor> buffer{torch::cat(flat_parts)};
    c10d::BroadcastOptions root;
    root.rootRank = 0;
    wait_for(impl_->backend->broadcast(buffer, root), "broadcast of the parameters");
    int64_t offset = 0;
    for (auto& t : group) {
      t.copy_(buffer[0].narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

void DistributedContext::all_reduce_sum(torch::Tensor& tensor) {
  std::vector<torch::Tensor> tensors{tensor};
  wait_for(impl_->backend->allreduce(tensors), "all-reduce");
}

void DistributedContext::barrier() {
  auto token = torch::ones({1}, torch::TensorOptions().dtype(torch::kFloat32).device(device_));
  all_reduce_sum(token);
  token.item<float>();  // the CPU waits for the device (nccl's wait() only orders streams)
}

}  // namespace xlstm::train
