// Runs CUDA kernel bodies on the CPU, so that CI (which has no GPU) tests their logic: include this,
// then a kernel header (*.cuh) whose device code uses only thread and block indices, warp shuffles,
// __syncthreads and __shared__ arrays. Every CTA runs in turn with one std::thread per CUDA thread;
// shuffles and __syncthreads meet at barriers, __shared__ arrays are function statics (one CTA at a
// time). Memory is host memory. The CUDA headers' host definitions provide the bf16/fp16 conversions.
#pragma once

// The CUDA headers come first: the macros below would rename their members.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace xlstm::testing::simulation {

struct Dim {
  unsigned x = 0, y = 0, z = 0;
};

// A reusable barrier for a fixed number of threads.
class Barrier {
 public:
  explicit Barrier(int count) : count_(count) {}
  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    const int generation = generation_;
    if (++arrived_ == count_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation != generation_; });
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int count_, arrived_ = 0, generation_ = 0;
};

struct Cta {
  std::vector<std::unique_ptr<Barrier>> warps;
  std::unique_ptr<Barrier> all;
  std::vector<uint32_t> exchange;  // one slot per thread for shuffles (the value's bits)
};

inline Dim block_idx, grid_dim, block_dim;
inline thread_local Dim thread_idx;
inline Cta* cta = nullptr;

// Runs body() for every thread of every CTA of the grid (threads a multiple of 32).
inline void launch(Dim grid, unsigned threads, const std::function<void()>& body) {
  grid_dim = grid;
  block_dim = {threads, 1, 1};
  for (unsigned bz = 0; bz < std::max(grid.z, 1u); ++bz)
    for (unsigned by = 0; by < std::max(grid.y, 1u); ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        block_idx = {bx, by, bz};
        Cta state;
        for (unsigned w = 0; w < threads / 32; ++w) state.warps.push_back(std::make_unique<Barrier>(32));
        state.all = std::make_unique<Barrier>(static_cast<int>(threads));
        state.exchange.assign(threads, 0u);
        cta = &state;
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < threads; ++t)
          pool.emplace_back([t, &body] {
            thread_idx = {t, 0, 0};
            body();
          });
        for (auto& thread : pool) thread.join();
        cta = nullptr;
      }
}

// A 4-byte value (float or int) from lane (lane ^ offset) of this thread's warp.
template <class V>
V shfl_xor(V v, int offset) {
  static_assert(sizeof(V) == sizeof(uint32_t), "shuffles move 4 bytes");
  const unsigned t = thread_idx.x, w = t / 32;
  std::memcpy(&cta->exchange[t], &v, sizeof v);
  cta->warps[w]->wait();
  V r;
  std::memcpy(&r, &cta->exchange[(w * 32) | ((t % 32) ^ static_cast<unsigned>(offset))], sizeof r);
  cta->warps[w]->wait();
  return r;
}

}  // namespace xlstm::testing::simulation

// The CUDA built-ins the kernel headers use.
#define threadIdx ::xlstm::testing::simulation::thread_idx
#define blockIdx ::xlstm::testing::simulation::block_idx
#define gridDim ::xlstm::testing::simulation::grid_dim
#define blockDim ::xlstm::testing::simulation::block_dim
#undef __launch_bounds__
#define __launch_bounds__(...)
#undef __shared__
#define __shared__ static
inline float __shfl_xor_sync(unsigned, float v, int offset) {
  return ::xlstm::testing::simulation::shfl_xor(v, offset);
}
inline int __shfl_xor_sync(unsigned, int v, int offset) { return ::xlstm::testing::simulation::shfl_xor(v, offset); }
inline void __syncthreads() { ::xlstm::testing::simulation::cta->all->wait(); }
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
inline float __fdividef(float a, float b) { return a / b; }
template <class V>
V __ldg(const V* p) {
  return *p;
}
using std::min;
