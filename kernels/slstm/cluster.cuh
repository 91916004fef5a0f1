// Synchronisation and data movement of the persistent sLSTM kernels: the per-step barrier (block or
// thread-block cluster), the address of a location in another CTA's shared memory (DSMEM), and a per-thread ring of
// cp.async copies that prefetches each step's inputs several steps ahead (a load issued one step ahead
// would not hide HBM latency at ~1 us per step).
#pragma once

#include <cstdint>
#include <cstring>

namespace xlstm::kernels {

// The per-step barrier of the block (cluster == 1) or the thread-block cluster, split in two so that
// work that neither needs nor feeds the other CTAs (global stores, prefetches) runs between arriving
// and waiting. The arrive has release semantics for the DSMEM stores before it; on sm_90 that is a
// GPU-scope memory barrier, which also waits for this thread's outstanding global stores, so those are
// best issued after it. Block barriers only wait (one __syncthreads).
__device__ __forceinline__ void step_arrive(int cluster) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (cluster > 1) asm volatile("barrier.cluster.arrive.release.aligned;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void step_wait(int cluster) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (cluster > 1) {
    asm volatile("barrier.cluster.wait.acquire.aligned;\n" ::: "memory");
    return;
  }
#endif
  __syncthreads();
}
__device__ __forceinline__ void step_barrier(int cluster) {
  step_arrive(cluster);
  step_wait(cluster);
}

// The generic address of the same shared-memory location as `ptr` (this CTA's) in the CTA of cluster
// rank `rank` (mapa); offsets added to it stay in that CTA's shared memory. Not volatile: the compiler
// may hoist or merge it; the barrier's memory clobber keeps stores through it on their side.
template <class P>
__device__ __forceinline__ P* cluster_map(P* ptr, int rank) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  uint64_t remote;
  asm("mapa.u64 %0, %1, %2;\n" : "=l"(remote) : "l"(ptr), "r"(rank));
  return reinterpret_cast<P*>(remote);
#else
  return ptr;
#endif
}

// Copies sizeof(E) (4 or 8) bytes from global to shared memory asynchronously; zeros when !valid.
template <class E>
__device__ __forceinline__ void cp_async_small(E* smem, const void* gmem, bool valid) {
  static_assert(sizeof(E) == 4 || sizeof(E) == 8, "cp.async.ca copies 4, 8 or 16 bytes");
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;\n" ::"r"(s), "l"(gmem), "n"(sizeof(E)),
               "r"(valid ? static_cast<int>(sizeof(E)) : 0));
}

// Depth steps of N elements per thread; element k of step t at [((t % Depth) * N + k) * threads + tid]
// (consecutive threads on consecutive words). Each step's copies form one cp.async group per thread,
// committed even when empty, so that "the group of step t is complete" is wait_group<Depth - 1> after
// the group of step t + Depth - 1 was committed. A thread reads only what it copied itself.
template <class E, int N, int Depth>
struct StepRing {
  E* mine;  // base + tid
  int threads;
  __device__ StepRing(E* base, int threads_) : mine(base + threadIdx.x), threads(threads_) {}
  static constexpr size_t bytes(int threads) { return static_cast<size_t>(Depth) * N * threads * sizeof(E); }
  __device__ E* at(int t, int k) const { return mine + ((static_cast<unsigned>(t) % Depth) * N + k) * threads; }
  __device__ static void commit() { asm volatile("cp.async.commit_group;\n" ::); }
  __device__ static void wait_oldest() { asm volatile("cp.async.wait_group %0;\n" ::"n"(Depth - 1)); }
};

}  // namespace xlstm::kernels
