// DistributedOptions: validation, the torchrun environment, and the data shard of a rank.
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "xlstm/train/distributed.h"

namespace xlstm::train {
namespace {

// The integer value of environment variable `name` (DistributedError naming it and its text).
long parse_integer(const char* name, const char* text) {
  errno = 0;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || errno == ERANGE || value < INT_MIN || value > INT_MAX)
    throw DistributedError(std::string(name) + "=\"" + text + "\" is not an integer");
  return value;
}

std::string quoted(const std::string& text) { return "\"" + text + "\""; }

}  // namespace

void DistributedOptions::validate() const {
  const auto fail = [](const std::string& what) { throw DistributedError(what); };
  if (world_size < 1) fail("WORLD_SIZE=" + std::to_string(world_size) + " must be 1 or more");
  if (rank < 0 || rank >= world_size)
    fail("RANK=" + std::to_string(rank) + " is not in [0, WORLD_SIZE=" + std::to_string(world_size) + ")");
  if (local_rank < 0) fail("LOCAL_RANK=" + std::to_string(local_rank) + " must be 0 or more");
  if (backend != "gloo" && backend != "nccl" && backend != "auto")
    fail("XLSTM_DIST_BACKEND=" + quoted(backend) + " is not one of gloo, nccl, auto");
  if (store_file.empty()) {
    if (master_addr.empty()) fail("MASTER_ADDR is empty");
    if (master_port < 1 || master_port > 65535)
      fail("MASTER_PORT=" + std::to_string(master_port) + " is not a port (1-65535)");
  }
  if (!(timeout_seconds > 0)) fail("timeout_seconds=" + std::to_string(timeout_seconds) + " must be positive");
}

std::optional<DistributedOptions> distributed_options_from_env(const std::function<const char*(const char*)>& getenv) {
  const char* world = getenv("WORLD_SIZE");
  if (!world) return std::nullopt;
  DistributedOptions o;
  o.world_size = static_cast<int>(parse_integer("WORLD_SIZE", world));
  const char* rank = getenv("RANK");
  if (!rank) throw DistributedError("WORLD_SIZE=" + std::string(world) + " is set but RANK is not");
  o.rank = static_cast<int>(parse_integer("RANK", rank));
  const char* local = getenv("LOCAL_RANK");
  o.local_rank = local ? static_cast<int>(parse_integer("LOCAL_RANK", local)) : o.rank;
  if (const char* addr = getenv("MASTER_ADDR")) o.master_addr = addr;
  if (const char* port = getenv("MASTER_PORT")) o.master_port = static_cast<int>(parse_integer("MASTER_PORT", port));
  if (const char* backend = getenv("XLSTM_DIST_BACKEND")) o.backend = backend;
  if (const char* file = getenv("XLSTM_DIST_STORE_FILE")) o.store_file = file;
  if (const char* agent = getenv("TORCHELASTIC_USE_AGENT_STORE")) o.external_store = std::string(agent) == "True";
  if (const char* attempt = getenv("TORCHELASTIC_RESTART_COUNT"))
    o.store_prefix += "/attempt_" + std::to_string(parse_integer("TORCHELASTIC_RESTART_COUNT", attempt));
  o.validate();
  return o;
}

Shard shard_of(int64_t first, int64_t count, int rank, int world_size) {
  const int64_t begin = count * rank / world_size, end = count * (rank + 1) / world_size;
  return {first + begin, end - begin};
}

}  // namespace xlstm::train
