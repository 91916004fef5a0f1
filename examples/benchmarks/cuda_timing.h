// CUDA-event timing shared by the kernel benchmarks (kernels.md §6).
#pragma once

#include <ATen/cuda/CUDAContext.h>
#include <torch/torch.h>

#include <algorithm>
#include <vector>

// Median of per-repetition CUDA-event times (ms) of fn, the L2 flushed (a 256 MiB write) before each.
template <class F>
double median_ms(F&& fn, int iters) {
  static torch::Tensor flush = torch::empty({64 << 20}, torch::TensorOptions().dtype(torch::kFloat32).device(torch::kCUDA));
  for (int w = 0; w < 3; ++w) fn();
  std::vector<double> times;
  auto stream = at::cuda::getCurrentCUDAStream();
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  for (int r = 0; r < iters; ++r) {
    flush.zero_();
    cudaEventRecord(start, stream);
    fn();
    cudaEventRecord(stop, stream);
    cudaEventSynchronize(stop);
    float ms = 0.f;
    cudaEventElapsedTime(&ms, start, stop);
    times.push_back(ms);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}
