// Synchronisation and data movement of the persistent sLSTM kernels: the hand-over of each step's
// vector between the CTAs of a thread-block cluster (DSMEM stores that count themselves on an
// mbarrier of the receiving CTA, so no cluster-wide barrier sits on the serial chain), and a
// per-thread ring of cp.async copies that prefetches each step's inputs several steps ahead (a load
// issued one step ahead would not hide HBM latency at ~1 us per step).
#pragma once

#include <cstdint>
#include <cstring>

namespace xlstm::kernels {

// Block (cluster == 1) or cluster barrier with release/acquire semantics; used once before the first
// step and once at the end (no CTA may exit while another can still write into its shared memory).
__device__ __forceinline__ void step_barrier(int cluster) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (cluster > 1) {
    asm volatile("barrier.cluster.arrive.release.aligned;\nbarrier.cluster.wait.acquire.aligned;\n" ::: "memory");
    return;
  }
#endif
  __syncthreads();
}

__device__ __forceinline__ uint32_t smem_addr(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }

// The shared::cluster address of this CTA's shared address `addr` in the CTA of cluster rank `rank`.
__device__ __forceinline__ uint32_t cluster_addr(uint32_t addr, int rank) {
  uint32_t remote = addr;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm("mapa.shared::cluster.u32 %0, %1, %2;\n" : "=r"(remote) : "r"(addr), "r"(rank));
#endif
  return remote;
}

// Stores v (4 or 8 bytes) at shared::cluster address `addr` of another CTA and counts its bytes on the
// mbarrier at shared::cluster address `bar` of that CTA.
template <class V>
__device__ __forceinline__ void store_async(uint32_t addr, V v, uint32_t bar) {
  static_assert(sizeof(V) == 4 || sizeof(V) == 8, "4- or 8-byte stores");
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if constexpr (sizeof(V) == 4) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    asm volatile("st.async.shared::cluster.mbarrier::complete_tx::bytes.b32 [%0], %1, [%2];\n" ::"r"(addr), "r"(bits),
                 "r"(bar)
                 : "memory");
  } else {
    uint64_t bits;
    memcpy(&bits, &v, 8);
    asm volatile("st.async.shared::cluster.mbarrier::complete_tx::bytes.b64 [%0], %1, [%2];\n" ::"r"(addr), "l"(bits),
                 "r"(bar)
                 : "memory");
  }
#endif
}

// The hand-over of the per-step vector (y forward, dg backward) between the `cluster` CTAs of a
// cluster, through two vector buffers: at iteration i every CTA writes its part of the new vector
// into buffer (i + 1) % 2 of every CTA (the other CTAs' with store_async, its own with plain shared
// stores), and iteration i + 1 reads buffer (i + 1) % 2. Buffer b has an mbarrier (two of them at
// `bars`, 8 bytes apart) whose phase completes when every warp of the CTA has arrived after its own
// stores of the iteration (warp 0 also announcing the bytes the other CTAs send) and those bytes have
// landed. That also orders the buffer's reuse: a CTA's stores of iteration i + 2 into buffer b follow,
// through the vector they carry, its reads of b at iteration i + 1, which followed the completion of
// b's phase for iteration i, which needed every warp of every CTA to be past its reads of b at
// iteration i - 1 (a warp without rows of its own is past them at the ksplit reduction's
// __syncthreads). Without a cluster (one CTA) a __syncthreads per step does it all.
struct StepSync {
  int cluster = 1;
  uint32_t bars = 0;          // shared address of the two mbarriers
  uint32_t remote_bytes = 0;  // bytes the other CTAs write into this CTA's buffer per iteration

  // Thread 0, before the first step_barrier (which publishes the initialisation to the cluster).
  __device__ void init(int warps) const {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    if (cluster > 1 && threadIdx.x == 0) {
      for (int b = 0; b < 2; ++b) asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bars + 8 * b), "r"(warps));
      asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
#endif
  }
  // The mbarrier of buffer b in the CTA of rank `rank`.
  __device__ uint32_t remote_bar(int b, int rank) const { return cluster_addr(bars + 8 * b, rank); }

  // Before iteration i (>= 1) reads buffer i % 2: until it holds iteration i - 1's vector. That is the
  // ((i - 1) / 2)-th phase of that buffer's mbarrier.
  __device__ void wait(int i) const {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    if (cluster > 1) {
      const uint32_t bar = bars + 8 * (i & 1), parity = ((i - 1) >> 1) & 1;
      asm volatile(
          "{\n.reg .pred done;\nwait_again:\n"
          "mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64 done, [%0], %1;\n"
          "@!done bra wait_again;\n}\n" ::"r"(bar),
          "r"(parity)
          : "memory");
      return;
    }
#endif
    __syncthreads();
  }

  // After this warp's stores of iteration i into buffer (i + 1) % 2; all lanes, converged.
  __device__ void arrive(int i) const {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    if (cluster > 1) {
      __syncwarp();
      if (threadIdx.x % 32 == 0) {
        const uint32_t bar = bars + 8 * ((i + 1) & 1);
        if (threadIdx.x == 0)
          asm volatile("mbarrier.arrive.expect_tx.release.cta.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar),
                       "r"(remote_bytes)
                       : "memory");
        else
          asm volatile("mbarrier.arrive.release.cta.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
      }
    }
#endif
  }

  // After the last iteration (n iterations): what the other CTAs wrote into this one has landed, and
  // no CTA of the cluster exits before all have got that far.
  __device__ void finish(int n) const {
    if (cluster > 1) {
      wait(n);
      step_barrier(cluster);
    }
  }
};

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
