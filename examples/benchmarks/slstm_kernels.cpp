// Benchmark of the fused sLSTM CUDA kernels (xlstm::slstm_fw / slstm_bw), measured as kernels.md §6
// asks: CUDA-event timings with the L2 flushed before each repetition, median reported, the reference
// kernels' numbers (kernels.md §0, same H100 class) and this project's targets printed beside ours.
//   shapes   B16 S1024 at hidden 1024 NH4 (DH256), hidden 768 NH4 (DH192) and NH12 (DH64), bf16 (and
//            fp32 at DH256); fw = forward op without caches (inference), fw+bw = forward with caches,
//            then the backward op with dy = 1 (the backward of y.sum()), dR and db included
//   scaling  forward microseconds per step, B in {1, 16, 64, 256}, hidden in {512, 1024, 2048} at DH256
// A check against the ATen loop runs first. --profile runs one forward and one backward at DH256 and
// at DH64 (B16 S1024 bf16) and exits (for ncu).
//
//   bench_slstm_kernels [--device cuda] [--iters 20] [--profile]
#include <torch/cuda.h>
#include <torch/torch.h>

#include <cstdio>
#include <string>

#include <xlstm/ops.h>
#include <xlstm/slstm/slstm_reference.h>

#if XLSTM_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>

#include "cuda_timing.h"
#endif

namespace {

#if XLSTM_WITH_CUDA

struct Inputs {
  torch::Tensor wx, R, b;
};

Inputs make_inputs(int64_t B, int64_t S, int64_t NH, int64_t DH, torch::Dtype dt) {
  auto o = torch::TensorOptions().device(torch::kCUDA);
  return {(torch::randn({B, S, NH, 4, DH}, o) * 2.0).to(dt),
          (torch::randn({NH, DH, 4 * DH}, o) / std::sqrt(static_cast<double>(DH))).to(dt), torch::randn({4 * NH * DH}, o)};
}

double rel(const torch::Tensor& a, const torch::Tensor& b) {
  auto a64 = a.to(torch::kFloat64), b64 = b.to(torch::kFloat64);
  return ((a64 - b64).norm() / b64.norm()).item<double>();
}

void quick_check() {
  at::globalContext().setAllowTF32CuBLAS(false);
  const auto in = make_inputs(4, 200, 4, 256, torch::kFloat32);
  std::vector<torch::Tensor> x{in.wx.clone().requires_grad_(true), in.R.clone().requires_grad_(true),
                               in.b.clone().requires_grad_(true)};
  auto [y_ref, s_ref] = xlstm::slstm_forward_reference(x[0], x[1], x[2], {});
  auto g_ref = torch::autograd::grad({y_ref.sum()}, x);
  auto [y, last, gates, states] = xlstm::ops::slstm_fw(in.wx, in.R, in.b, std::nullopt, true);
  auto [dwx, dR, db, ds0] = xlstm::ops::slstm_bw(torch::ones_like(y), std::nullopt, in.wx, in.R, in.b, std::nullopt, y,
                                                 gates, states);
  std::printf("check vs ATen (fp32, B4 S200 NH4 DH256): y %.1e  state %.1e  dwx %.1e  dR %.1e  db %.1e\n",
              rel(y, y_ref), rel(last, s_ref), rel(dwx, g_ref[0]), rel(dR, g_ref[1]), rel(db, g_ref[2]));
}

struct Times {
  double fw, fwbw;
};

Times time_shape(int64_t B, int64_t S, int64_t NH, int64_t DH, torch::Dtype dt, int iters, bool with_bw) {
  torch::NoGradGuard no_grad;
  const auto in = make_inputs(B, S, NH, DH, dt);
  const auto dy = torch::ones({B, S, NH, DH}, in.wx.options());
  const double fw = median_ms([&] { xlstm::ops::slstm_fw(in.wx, in.R, in.b, std::nullopt, false); }, iters);
  double fwbw = 0;
  if (with_bw)
    fwbw = median_ms(
        [&] {
          auto [y, last, gates, states] = xlstm::ops::slstm_fw(in.wx, in.R, in.b, std::nullopt, true);
          xlstm::ops::slstm_bw(dy, std::nullopt, in.wx, in.R, in.b, std::nullopt, y, gates, states);
        },
        iters);
  return {fw, fwbw};
}

struct Row {
  const char* name;
  int64_t NH, DH;
  torch::Dtype dt;
  const char* reference;  // kernels.md §0 / §3.4
  const char* target;     // kernels.md §0.1
};

void bench_shapes(int iters) {
  const int64_t B = 16, S = 1024;
  const Row rows[] = {
      {"H1024 NH4 DH256 bf16", 4, 256, torch::kBFloat16,
       "original xLSTM 19.20 / 46.70; FlashRNN fused 3.38 / 9.66", "<= 2.0 / <= 6.0"},
      {"H768  NH4 DH192 bf16", 4, 192, torch::kBFloat16, "FlashRNN fused 3.15 / 8.99", "-"},
      {"H768 NH12 DH64  bf16", 12, 64, torch::kBFloat16, "FlashRNN Triton fused 2.11 / 5.72", "-"},
      {"H1024 NH4 DH256 fp32", 4, 256, torch::kFloat32, "-", "-"},
  };
  std::printf("\n| shape (B16 S1024) | fw ms | fw+bw ms | fw us/step | reference fw / fw+bw ms | target |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const auto& r : rows) {
    const auto t = time_shape(B, S, r.NH, r.DH, r.dt, iters, true);
    std::printf("| %s | %.2f | %.2f | %.2f | %s | %s |\n", r.name, t.fw, t.fwbw, 1000.0 * t.fw / S, r.reference,
                r.target);
    std::fflush(stdout);
  }

  c10::cuda::CUDACachingAllocator::emptyCache();
  c10::cuda::CUDACachingAllocator::resetPeakStats(0);
  time_shape(B, S, 4, 256, torch::kBFloat16, 3, true);
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(0);
  const double peak = static_cast<double>(stats.allocated_bytes[0].peak) / (1 << 30);
  std::printf("peak memory of fw+bw at H1024 NH4 B16 S1024 bf16 (inputs included): %.2f GiB\n", peak);
}

void bench_scaling(int iters) {
  const int64_t S = 1024, DH = 256;
  std::printf("\nforward us/step (bf16, S1024, DH256; NH = hidden / 256)\n| B | hidden 512 | hidden 1024 | hidden 2048 |\n|---|---|---|---|\n");
  for (const int64_t B : {1, 16, 64, 256}) {
    std::printf("| %lld |", static_cast<long long>(B));
    for (const int64_t hidden : {512, 1024, 2048}) {
      const auto t = time_shape(B, S, hidden / DH, DH, torch::kBFloat16, iters, false);
      std::printf(" %.2f |", 1000.0 * t.fw / S);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
}

#endif

}  // namespace

int main(int argc, char** argv) {
  int iters = 20;
  bool profile = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--profile") {
      profile = true;
    } else if (flag == "--iters" && i + 1 < argc) {
      iters = std::max(3, std::stoi(argv[++i]));
    } else if (flag == "--device" && i + 1 < argc && std::string(argv[i + 1]) == "cuda") {
      ++i;  // the only device it runs on; accepted like the other benchmarks' flag
    } else {
      std::fprintf(stderr, "usage: bench_slstm_kernels [--device cuda] [--iters N] [--profile]\n");
      return 2;
    }
  }
#if XLSTM_WITH_CUDA
  if (!torch::cuda::is_available()) {
    std::fprintf(stderr, "bench_slstm_kernels: no CUDA device\n");
    return 1;
  }
  if (profile) {
    for (const int64_t DH : {256, 64}) {
      const auto in = make_inputs(16, 1024, 1024 / DH, DH, torch::kBFloat16);
      auto [y, last, gates, states] = xlstm::ops::slstm_fw(in.wx, in.R, in.b, std::nullopt, true);
      xlstm::ops::slstm_bw(torch::ones_like(y), std::nullopt, in.wx, in.R, in.b, std::nullopt, y, gates, states);
    }
    torch::cuda::synchronize();
    return 0;
  }
  quick_check();
  bench_shapes(iters);
  bench_scaling(iters);
  return 0;
#else
  (void)iters;
  (void)profile;
  std::fprintf(stderr, "bench_slstm_kernels: built without CUDA kernels\n");
  return 1;
#endif
}
