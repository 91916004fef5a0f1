// The gloo backend over the rendezvous store. Compiled only when the build found gloo's headers
// (XLSTM_WITH_GLOO): ProcessGroupGloo.hpp needs them and the pip LibTorch does not ship them.
#if XLSTM_WITH_GLOO
#define USE_C10D_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include <cstdlib>

#include "distributed_impl.h"

namespace xlstm::train {
namespace {

bool is_loopback(const std::string& addr) { return addr == "localhost" || addr.rfind("127.", 0) == 0; }

}  // namespace

// The transport device: GLOO_SOCKET_IFNAME's interface when set (as in PyTorch), the loopback
// interface when MASTER_ADDR is a loopback address (one machine; also the default with a FileStore),
// else the address this host's name resolves to.
c10::intrusive_ptr<c10d::Backend> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>& store,
                                                    const DistributedOptions& options) {
  auto gloo = c10d::ProcessGroupGloo::Options::create(timeout_of(options));
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"))
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
  else if (is_loopback(options.master_addr))
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  else
    gloo->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, options.rank, options.world_size, gloo);
}

}  // namespace xlstm::train
#endif
