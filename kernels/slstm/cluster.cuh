// Synchronisation and data movement of the persistent sLSTM kernels: the per-step barrier (block or
// thread-block cluster), stores into the other CTAs' shared memory (DSMEM), and a per-thread ring of
// cp.async copies that prefetches each step's inputs several steps ahead (a load issued one step ahead
// would not hide HBM latency at ~1 us per step).
#pragma once

#include <cstdint>
#include <cstring>

namespace xlstm::kernels {

// Block (cluster == 1) or cluster barrier; with release/acquire semantics for the DSMEM stores.
__device__ __forceinline__ void step_barrier(int cluster) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (cluster > 1) {
    asm volatile("barrier.cluster.arrive.release.aligned;\nbarrier.cluster.wait.acquire.aligned;\n" ::: "memory");
    return;
  }
#endif
  __syncthreads();
}

// Stores v at shared address `addr` of this CTA into cluster rank `rank`'s shared memory (the same
// offset), through 32-bit shared::cluster addresses (mapa); a plain shared store without a cluster.
__device__ __forceinline__ uint32_t smem_addr(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }

template <class V>
__device__ __forceinline__ void store_to_rank(uint32_t addr, int rank, int cluster, V v) {
  static_assert(sizeof(V) == 4 || sizeof(V) == 8, "4- or 8-byte stores");
  uint64_t bits = 0;
  memcpy(&bits, &v, sizeof(V));
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (cluster > 1) {
    uint32_t remote;
    asm volatile("mapa.shared::cluster.u32 %0, %1, %2;\n" : "=r"(remote) : "r"(addr), "r"(rank));
    if constexpr (sizeof(V) == 4)
      asm volatile("st.shared::cluster.u32 [%0], %1;\n" ::"r"(remote), "r"(static_cast<uint32_t>(bits)) : "memory");
    else
      asm volatile("st.shared::cluster.u64 [%0], %1;\n" ::"r"(remote), "l"(bits) : "memory");
    return;
  }
#endif
  if constexpr (sizeof(V) == 4)
    asm volatile("st.shared.u32 [%0], %1;\n" ::"r"(addr), "r"(static_cast<uint32_t>(bits)) : "memory");
  else
    asm volatile("st.shared.u64 [%0], %1;\n" ::"r"(addr), "l"(bits) : "memory");
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
  E* base;
  int threads;
  static constexpr size_t bytes(int threads) { return static_cast<size_t>(Depth) * N * threads * sizeof(E); }
  __device__ E* at(int t, int k) const { return base + ((t % Depth) * N + k) * threads + threadIdx.x; }
  __device__ static void commit() { asm volatile("cp.async.commit_group;\n" ::); }
  __device__ static void wait_oldest() { asm volatile("cp.async.wait_group %0;\n" ::"n"(Depth - 1)); }
};

}  // namespace xlstm::kernels
