// Shared helpers of the test suites: fixture paths, relative errors, tolerance checks.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "xlstm/io/safetensors.h"

namespace xlstm::testing {

// ../shared (or $XLSTM_SHARED_DIR): fixtures/ and data/.
inline std::string shared_dir() {
  if (const char* env = std::getenv("XLSTM_SHARED_DIR")) return env;
  return XLSTM_SHARED_DIR;
}
inline std::string fixture_path(const std::string& name, const std::string& file) {
  return shared_dir() + "/fixtures/" + name + "/" + file;
}
// The source tree (or $XLSTM_SOURCE_DIR: binaries built elsewhere, e.g. a bundle of .ci/gpu_bundle.sh).
inline std::string source_path(const std::string& rel) {
  const char* env = std::getenv("XLSTM_SOURCE_DIR");
  return std::string(env != nullptr ? env : XLSTM_SOURCE_DIR) + "/" + rel;
}
inline std::map<std::string, torch::Tensor> load_fixture(const std::string& name, const std::string& file) {
  return io::load_safetensors(fixture_path(name, file));
}

// Frees NaN-filled blocks (0xff bytes: NaN in every float format) into the CUDA caching allocator's
// large and small pools, so the next allocations start out as NaN and an output element a kernel never
// writes shows up.
inline void poison_cuda_allocator(int64_t large_bytes) {
  auto o = torch::TensorOptions().dtype(torch::kUInt8).device(torch::kCUDA);
  std::vector<torch::Tensor> blocks{torch::full({large_bytes}, 255, o)};
  for (int i = 0; i < 32; ++i) blocks.push_back(torch::full({256 * 1024}, 255, o));
  torch::cuda::synchronize();
}

// The message of the c10::Error that f throws (without the backtrace), or "no error".
inline std::string error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  }
  return "no error";
}

// ||a - b|| / ||b|| in float64.
inline double rel_error(const torch::Tensor& a, const torch::Tensor& b) {
  auto a64 = a.detach().to(torch::kCPU, torch::kFloat64);
  auto b64 = b.detach().to(torch::kCPU, torch::kFloat64);
  const double denom = b64.norm().item<double>();
  const double diff = (a64 - b64).norm().item<double>();
  return denom == 0.0 ? diff : diff / denom;
}

// Base fixture of the CUDA suites: skipped without a device; TF32 off, so that fp32 products on the GPU
// are as exact as the references they are compared with.
class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
    at::globalContext().setAllowTF32CuBLAS(false);
    at::globalContext().setAllowTF32CuDNN(false);
  }
};

// Feeds inputs (B, S, ...) through module->step one position at a time, carrying the state; returns
// the concatenated outputs and the final state.
template <class Module>
auto step_through(Module& module, const torch::Tensor& inputs) {
  decltype(std::get<1>(module->step(inputs.narrow(1, 0, 1)))) state{};
  std::vector<torch::Tensor> outputs;
  for (int64_t t = 0; t < inputs.size(1); ++t) {
    auto [y, next] = module->step(inputs.narrow(1, t, 1), state);
    outputs.push_back(y);
    state = std::move(next);
  }
  return std::make_pair(torch::cat(outputs, 1), state);
}

}  // namespace xlstm::testing

// Shapes equal, no NaN/Inf, and relative error within tol.
#define XLSTM_EXPECT_CLOSE(actual, expected, tol)                                                   \
  do {                                                                                           \
    auto _a = (actual);                                                                          \
    auto _e = (expected);                                                                        \
    ASSERT_EQ(_a.sizes(), _e.sizes()) << #actual;                                                \
    EXPECT_TRUE(torch::isfinite(_a.detach().to(torch::kFloat32)).all().item<bool>()) << #actual " has NaN/Inf"; \
    const double _err = ::xlstm::testing::rel_error(_a, _e);                                     \
    EXPECT_LE(_err, (tol)) << #actual " vs " #expected;                                          \
  } while (0)
