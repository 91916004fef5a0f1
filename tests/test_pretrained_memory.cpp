// Peak host memory of loading a ~200 MB bf16 checkpoint folder into a bf16 module: must stay under
// 1.5x the checkpoint size. The load runs in tests/pretrained_memory_probe.cpp, a process of its own,
// so that the measurement holds only what the load itself makes resident: the module's parameters
// (1.0x the checkpoint: all are written by the load) plus whatever the loader keeps of the files and
// any temporary copies. A loader that held the whole checkpoint (a state dict in memory, or every
// file page it read) would reach ~2x.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <sstream>

#include "pretrained_testing.h"
#include "temp_dir.h"
#include "xlstm/io/pretrained.h"

namespace xlstm::testing {
namespace {

// Runs the probe and returns its "key value" lines.
std::map<std::string, double> run_probe(const std::string& folder, const std::string& dtype) {
  const std::string command = std::string(XLSTM_MEMORY_PROBE) + " '" + folder + "' " + dtype + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::string output;
  char buffer[256];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  if (status != 0) throw std::runtime_error(command + " failed (" + std::to_string(status) + "): " + output);
  std::map<std::string, double> values;
  std::istringstream lines(output);
  std::string key;
  double value = 0;
  while (lines >> key >> value) values[key] = value;
  return values;
}

int64_t file_bytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

struct MemoryCase {
  const char* name;
  io::FolderLayout layout;
  uint64_t max_shard_bytes;
  size_t files;
  friend void PrintTo(const MemoryCase& c, std::ostream* os) { *os << c.name; }
};

class PretrainedMemory : public ::testing::TestWithParam<MemoryCase> {};

TEST_P(PretrainedMemory, Bf16LoadOfA200MBCheckpointPeaksBelowOneAndAHalfTimesItsSize) {
  // E=1024, 7 blocks of 12.5M parameters, vocab 8192: 104.4M parameters, 209 MB in bf16.
  xLSTMLargeConfig config = small_large_config();
  config.embedding_dim = 1024;
  config.num_heads = 4;
  config.num_blocks = 7;
  config.vocab_size = 8192;
  torch::manual_seed(5);
  auto module = large_like_module(config, torch::kBFloat16, /*fill=*/false);
  double checksum = 0;
  {
    torch::NoGradGuard no_grad;
    for (auto& p : module->parameters()) checksum += p.uniform_(-1, 1).sum(torch::kFloat64).item<double>();
  }

  TempDir dir;
  io::save_checkpoint_folder(*module, config, dir.path(), GetParam().layout, GetParam().max_shard_bytes);
  const auto files = io::find_checkpoint_files(dir.path());
  ASSERT_EQ(files.shard_files.size(), GetParam().files);
  int64_t checkpoint = 0;
  for (const auto& shard : files.shard_files) checkpoint += file_bytes(shard);
  module.reset();  // the probe is a process of its own; free this copy anyway

  const auto probe = run_probe(dir.path(), "bfloat16");
  const double increase = probe.at("peak_bytes") - probe.at("baseline_bytes");
  std::printf("[ memory ] checkpoint %.1f MB in %zu file(s), module %.1f MB, peak increase %.1f MB = %.3fx "
              "the checkpoint (high-water mark reset: %s)\n",
              checkpoint / 1e6, files.shard_files.size(), probe.at("module_bytes") / 1e6, increase / 1e6,
              increase / checkpoint, probe.at("hwm_reset") ? "yes" : "no");
  EXPECT_GT(checkpoint, 200e6);
  EXPECT_LT(increase, 1.5 * checkpoint);
  // The measurement must see the parameters being written, else it measured nothing.
  EXPECT_GT(increase, 0.95 * probe.at("module_bytes"));
  EXPECT_DOUBLE_EQ(probe.at("checksum"), checksum);
}

// Four 64 MiB hub shards with an index, and the reference layout's single model.safetensors (the
// whole checkpoint behind one mapping: only per-tensor page release keeps it from staying resident).
INSTANTIATE_TEST_SUITE_P(Pretrained, PretrainedMemory,
                         ::testing::Values(MemoryCase{"HubShards", io::FolderLayout::hugging_face, 64 << 20, 4},
                                           MemoryCase{"SingleFile", io::FolderLayout::reference,
                                                      io::kDefaultMaxShardBytes, 1}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace xlstm::testing
