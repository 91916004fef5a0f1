// Peak host memory of load_checkpoint_folder, measured in a process of its own so that nothing else
// the test suite allocated counts (run by test_pretrained_memory.cpp).
//
//   pretrained_memory_probe FOLDER DTYPE      (DTYPE: bfloat16 or float32, of the module's parameters)
//
// Builds an xLSTMLarge stand-in for the folder's config with uninitialised parameters (pages not yet
// touched), resets the resident-set high-water mark (writing "5" to /proc/self/clear_refs), reads the
// resident set size as the baseline, loads the folder and reads the high-water mark VmHWM. VmHWM
// counts every resident page of the process: anonymous memory (the parameters, any temporary copy)
// and file pages mapped from the checkpoint alike. Prints, one per line:
//   hwm_reset 0|1       whether the reset worked (else the peak also covers startup)
//   baseline_bytes N    VmRSS after building the module, before loading
//   peak_bytes N        VmHWM after loading
//   module_bytes N      bytes of the module's parameters
//   checksum X          sum of all parameters in float64, to show that the load happened
#include <fstream>
#include <iomanip>
#include <iostream>
#include <string>

#include "pretrained_testing.h"
#include "xlstm/io/pretrained.h"

namespace {

// A "VmRSS:" or "VmHWM:" line of /proc/self/status, in bytes.
int64_t status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (status >> key) {
    if (key == field + ":") {
      status >> kb >> unit;
      return kb * 1024;
    }
    std::getline(status, unit);
  }
  throw std::runtime_error("/proc/self/status has no " + field);
}

bool reset_high_water_mark() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return clear.good();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[2]) != "bfloat16" && std::string(argv[2]) != "float32")) {
    std::cerr << "usage: pretrained_memory_probe FOLDER bfloat16|float32\n";
    return 2;
  }
  try {
    const std::string folder = argv[1];
    const auto dtype = std::string(argv[2]) == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
    const auto config = xlstm::io::read_large_config(folder);
    auto module = xlstm::testing::large_like_module(config, dtype, /*fill=*/false);

    const bool reset = reset_high_water_mark();
    const int64_t baseline = status_bytes("VmRSS");
    xlstm::io::load_checkpoint_folder(*module, folder);
    const int64_t peak = status_bytes("VmHWM");

    double checksum = 0;
    for (const auto& p : module->parameters()) checksum += p.sum(torch::kFloat64).item<double>();
    std::cout << "hwm_reset " << reset << "\nbaseline_bytes " << baseline << "\npeak_bytes " << peak
              << "\nmodule_bytes " << xlstm::testing::tensor_bytes(*module) << "\nchecksum " << std::setprecision(17)
              << checksum << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
