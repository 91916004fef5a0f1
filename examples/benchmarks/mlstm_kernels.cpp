// Benchmark of the chunkwise mLSTM CUDA kernels (xlstm::mlstm_chunkwise_fw / _bw) and the step kernel,
// measured as kernels.md §6 asks: bf16 inputs, CUDA-event timings of each repetition with the L2 cache
// flushed before it, median reported; FLOPs counted as in kernels.md §5.1; the reference kernels'
// numbers (kernels.md §0, same H100 class) and this project's targets printed beside ours.
//   chunkwise  B8 NH8 S8192 at (dq256, dv512) (the 7B layout) and (dq512, dv512), chunk 64/128/256;
//              fw = forward op (inference), fw+bw = the training path that autograd runs: the cached
//              forward (mlstm_chunkwise_fw_cached) then the backward op with its chunk states and
//              dh = 1 (backward of h.sum()); peak memory of fw+bw at the 7B layout
//   step       B1 and B16 at the 7B layout (NH8 dq256 dv512): 32 steps with 32 separate states (32
//              layers) captured in one CUDA graph and replayed; microseconds per layer.
// --profile runs one forward and one backward at the 7B layout (L128) and exits (for ncu); with
// --profile-dqk 512 at B8 NH8 S8192 dq512 dv512 instead.
// A quick check against the ATen reference (fp32 inputs, shorter sequence) runs first.
//
//   bench_mlstm_kernels [--device cuda] [--iters 20] [--profile] [--profile-dqk 256|512]
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <xlstm/mlstm/backends.h>
#include <xlstm/ops.h>

#if XLSTM_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "cuda_timing.h"
#endif

namespace {

struct Args {
  std::string device = "cuda";
  int iters = 20;
  bool profile = false;
  int profile_dqk = 256;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--profile") {
      a.profile = true;
      continue;
    }
    if (i + 1 >= argc) throw std::runtime_error("missing value after " + flag);
    const std::string value = argv[++i];
    if (flag == "--device") a.device = value;
    else if (flag == "--iters") a.iters = std::max(3, std::stoi(value));
    else if (flag == "--profile-dqk" && (value == "256" || value == "512")) a.profile_dqk = std::stoi(value);
    else
      throw std::runtime_error("bad flag " + flag + " " + value +
                               " (usage: bench_mlstm_kernels [--device cuda] [--iters N] [--profile] [--profile-dqk 256|512])");
  }
  return a;
}

#if XLSTM_WITH_CUDA

using xlstm::ops::OptTensor;

struct Inputs {
  torch::Tensor q, k, v, i, f;
};

Inputs make_inputs(int64_t B, int64_t NH, int64_t S, int64_t dq, int64_t dv, torch::Dtype dt) {
  auto o = torch::TensorOptions().device(torch::kCUDA);
  return {torch::randn({B, NH, S, dq}, o).to(dt), torch::randn({B, NH, S, dq}, o).to(dt),
          torch::randn({B, NH, S, dv}, o).to(dt), torch::randn({B, NH, S}, o) * 3.0,
          torch::randn({B, NH, S}, o) * 2.0 + 3.0};
}

double rel(const torch::Tensor& a, const torch::Tensor& b) {
  auto a64 = a.to(torch::kFloat64), b64 = b.to(torch::kFloat64);
  return ((a64 - b64).norm() / b64.norm()).item<double>();
}

// Forward and input gradients of the kernels against the ATen reference (fp32, TF32 off).
void quick_check() {
  at::globalContext().setAllowTF32CuBLAS(false);
  const int64_t B = 1, NH = 2, S = 1000, dq = 256, dv = 512;
  auto in = make_inputs(B, NH, S, dq, dv, torch::kFloat32);
  in.q = in.q + 1.0;
  in.k = in.k + 1.0;
  std::vector<torch::Tensor> x;
  for (const auto& t : {in.q, in.k, in.v, in.i, in.f}) x.push_back(t.detach().requires_grad_(true));
  auto dh = torch::randn({B, NH, S, dv}, in.v.options());
  auto [h_ref, s_ref] = xlstm::mlstm_chunkwise(x[0], x[1], x[2], x[3], x[4], {}, 64);
  auto g_ref = torch::autograd::grad({h_ref}, x, {dh});
  auto [h, n_out, m_out, c, n, m] = xlstm::ops::mlstm_chunkwise_fw(in.q, in.k, in.v, in.i, in.f, std::nullopt,
                                                                   std::nullopt, std::nullopt, 128, xlstm::kMlstmEps);
  auto g = xlstm::ops::mlstm_chunkwise_bw(dh, std::nullopt, std::nullopt, std::nullopt, in.q, in.k, in.v, in.i, in.f,
                                          std::nullopt, std::nullopt, std::nullopt, n_out, m_out, 128,
                                          xlstm::kMlstmEps);
  std::printf("check vs ATen (fp32, B1 NH2 S1000 dq256 dv512): h %.1e  C %.1e  dq %.1e  dk %.1e  dv %.1e  di %.1e  df %.1e\n",
              rel(h, h_ref), rel(c, s_ref.C), rel(std::get<0>(g), g_ref[0]), rel(std::get<1>(g), g_ref[1]),
              rel(std::get<2>(g), g_ref[2]), rel(std::get<3>(g), g_ref[3]), rel(std::get<4>(g), g_ref[4]));
}

struct Reference {
  const char* note;
  double fw, fwbw, target_fw, target_fwbw;
};

void bench_chunkwise(int64_t dq, int64_t dv, const Reference& ref, int iters) {
  const int64_t B = 8, NH = 8, S = 8192;
  auto in = make_inputs(B, NH, S, dq, dv, torch::kBFloat16);
  auto dh = torch::ones({B, NH, S, dv}, in.v.options());
  for (int64_t L : {64, 128, 256}) {
    torch::NoGradGuard no_grad;
    const OptTensor none;
    auto fw = [&] { return xlstm::ops::mlstm_chunkwise_fw(in.q, in.k, in.v, in.i, in.f, none, none, none, L, xlstm::kMlstmEps); };
    auto fwbw = [&] {
      auto [h, n_out, m_out, c, n, m, chunk_states, chunk_n, chunk_m] = xlstm::ops::mlstm_chunkwise_fw_cached(
          in.q, in.k, in.v, in.i, in.f, none, none, none, L, xlstm::kMlstmEps);
      xlstm::ops::mlstm_chunkwise_bw(dh, none, none, none, in.q, in.k, in.v, in.i, in.f, none, none, none, n_out,
                                     m_out, L, xlstm::kMlstmEps, chunk_states, chunk_n, chunk_m);
    };
    const double t_fw = median_ms(fw, iters), t_fwbw = median_ms(fwbw, iters);
    const double tokens = double(B) * NH * S;
    const double fl_fw = tokens * (4.0 * dq * dv + L * double(dq + dv));
    const double fl_fwbw = tokens * (16.0 * dq * dv + 4.0 * L * double(dq + dv));
    std::printf("| B8 NH8 S8192 dq%ld dv%ld L%ld | %.2f | %.2f | %.0f / %.0f | %.2f / %.2f (%s) | <= %.1f / <= %.1f |\n",
                dq, dv, L, t_fw, t_fwbw, fl_fw / t_fw * 1e-9, fl_fwbw / t_fwbw * 1e-9, ref.fw, ref.fwbw, ref.note,
                ref.target_fw, ref.target_fwbw);
  }
}

void peak_memory_7b() {
  const int64_t B = 8, NH = 8, S = 8192, dq = 256, dv = 512;
  torch::cuda::synchronize();
  c10::cuda::CUDACachingAllocator::emptyCache();
  const int dev = at::cuda::current_device();
  c10::cuda::CUDACachingAllocator::resetPeakStats(dev);
  std::vector<torch::Tensor> x;
  {
    auto in = make_inputs(B, NH, S, dq, dv, torch::kBFloat16);
    for (const auto& t : {in.q, in.k, in.v, in.i, in.f}) x.push_back(t.requires_grad_(true));
  }
  auto [h, c] = xlstm::ops::mlstm_chunkwise(x[0], x[1], x[2], x[3], x[4], {}, 128);
  h.sum().backward();
  torch::cuda::synchronize();
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(dev);
  const double peak = double(stats.allocated_bytes[0].peak) / (1 << 30);
  std::printf("peak memory, fw+bw through autograd at B8 NH8 S8192 dq256 dv512 (bf16, L128, inputs and grads "
              "included): %.2f GiB (target <= 8 GiB)\n", peak);
}

// 32 steps (32 layers, one state each; out of place, as a generation loop that alternates between two
// state buffers runs them) captured in a CUDA graph; microseconds per step.
double step_us(int64_t B, int iters) {
  const int64_t NH = 8, dq = 256, dv = 512, layers = 32;
  auto o = torch::TensorOptions().device(torch::kCUDA);
  auto q = torch::randn({B, NH, dq}, o).to(torch::kBFloat16), k = torch::randn({B, NH, dq}, o).to(torch::kBFloat16);
  auto v = torch::randn({B, NH, dv}, o).to(torch::kBFloat16);
  auto i = torch::randn({B, NH}, o), f = torch::randn({B, NH}, o) + 3.0;
  std::vector<torch::Tensor> C, n, m;
  for (int l = 0; l < layers; ++l) {
    C.push_back(torch::randn({B, NH, dq, dv}, o));
    n.push_back(torch::randn({B, NH, dq}, o));
    m.push_back(torch::zeros({B, NH, 1}, o));
  }
  auto run = [&] {
    for (int l = 0; l < layers; ++l) xlstm::ops::mlstm_step(q, k, v, i, f, C[l], n[l], m[l], xlstm::kMlstmEps);
  };
  run();  // warm-up outside the capture
  torch::cuda::synchronize();
  at::cuda::CUDAGraph graph;
  auto stream = at::cuda::getStreamFromPool();
  {
    c10::cuda::CUDAStreamGuard guard(stream);
    graph.capture_begin();
    run();
    graph.capture_end();
  }
  torch::cuda::synchronize();
  return median_ms([&] { graph.replay(); }, iters) * 1000.0 / layers;
}

// One forward and one backward at B8 NH8 S8192 dv512 (dq256: the 7B layout), for a profiler.
void profile_once(int dqk) {
  torch::NoGradGuard no_grad;
  auto in = make_inputs(8, 8, 8192, dqk, 512, torch::kBFloat16);
  const OptTensor none;
  auto [h, n_out, m_out, c, n, m, chunk_states, chunk_n, chunk_m] =
      xlstm::ops::mlstm_chunkwise_fw_cached(in.q, in.k, in.v, in.i, in.f, none, none, none, 128, xlstm::kMlstmEps);
  xlstm::ops::mlstm_chunkwise_bw(torch::ones_like(h), none, none, none, in.q, in.k, in.v, in.i, in.f, none, none, none,
                                 n_out, m_out, 128, xlstm::kMlstmEps, chunk_states, chunk_n, chunk_m);
  torch::cuda::synchronize();
}

int run_cuda(const Args& args) {
  if (args.profile) {
    profile_once(args.profile_dqk);
    return 0;
  }
  std::printf("device: %s\n", at::cuda::getCurrentDeviceProperties()->name);
  quick_check();
  std::printf("\n| shape (bf16) | fw ms | fw+bw ms | TFLOP/s fw / fw+bw | reference fw / fw+bw ms | target ms |\n");
  std::printf("|---|---|---|---|---|---|\n");
  bench_chunkwise(256, 512, {"limit_chunk L64; xl_chunk does not compile", 6.75, 23.36, 2.0, 7.0}, args.iters);
  bench_chunkwise(512, 512, {"limit_chunk L64", 12.00, 44.09, 3.0, 12.0}, args.iters);
  peak_memory_7b();
  std::printf("\n| step (7B layout NH8 dq256 dv512, bf16 in, fp32 state, CUDA graph) | us per layer | reference | target |\n");
  std::printf("|---|---|---|---|\n");
  std::printf("| B1 | %.1f | 14.6 (Triton step) | <= 10 |\n", step_us(1, args.iters));
  std::printf("| B16 | %.1f | 58 (Triton step) | <= 40 |\n", step_us(16, args.iters));
  return 0;
}

#endif  // XLSTM_WITH_CUDA

}  // namespace

int main(int argc, char** argv) {
  Args args;
  try {
    args = parse_args(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_mlstm_kernels: %s\n", e.what());
    return 2;
  }
#if XLSTM_WITH_CUDA
  if (args.device == "cuda" && torch::cuda::is_available()) return run_cuda(args);
  std::printf("bench_mlstm_kernels: no CUDA device (or --device %s); the kernels need one, nothing measured\n",
              args.device.c_str());
#else
  std::printf("bench_mlstm_kernels: built without the CUDA kernels (XLSTM_CUDA=OFF); nothing measured\n");
#endif
  return 0;
}
