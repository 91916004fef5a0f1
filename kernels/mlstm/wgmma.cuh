// Warpgroup matrix multiply-accumulate (wgmma, sm_90a) on 64x64 tiles of 16-bit elements held in shared
// memory with the 128-byte swizzle, and the cp.async loads into that layout.
//
// Tile layout: row r (128 bytes) at byte 128 r, its 16-byte chunk c at chunk c ^ (r % 8) (tiles 1024-byte
// aligned). A warp's cp.async of 4 whole rows and ldmatrix of 8 rows' same chunk are conflict-free, and
// wgmma reads the tile through a descriptor as a K-major operand (columns along K: Q, P) or an MN-major
// one (rows along K: V, C_{k-1}), 8-row groups 1024 bytes apart in both. (The unswizzled layout of 8x8
// core matrices, tried first, needs a warp's copies to cover 8 rows x 64 bytes: twice the L2 requests;
// the fused forward took 4.2 ms with it, 2.4 with this one.)
//
// Accumulators of an m64n64 product: warp w of the warpgroup holds rows 16 (w % 4) + lane / 4 (+ 8) and,
// for each n8 block j, columns 8 j + 2 (lane % 4) + {0, 1} in d[4 j + {0, 1}] (row + 8: d[4 j + {2, 3}]),
// the layout of mma.sync's m16n8 accumulators. A from registers has mma.sync's m16n8k16 A fragment layout.
#pragma once

#include <cstdint>

#include "mlstm/launch.h"
#include "mlstm/tile.cuh"

namespace xlstm::kernels::wg {

constexpr int kElems = 64 * 64;  // a tile, in elements (no padding)
constexpr int kAlign = 1024;     // of a tile's address

// Element offset of (r, c) in a tile.
__device__ __forceinline__ int offset(int r, int c) { return r * 64 + ((((c >> 3) ^ r) & 7) << 3) + (c & 7); }

// Starts copying the 64x64 tile at g (row stride ld elements) into s; rows >= valid_rows become zeros.
// 8 threads per row.
template <class T, int Threads>
__device__ __forceinline__ void load_tile_async(T* s, const T* g, int64_t ld, int valid_rows) {
  static_assert(Threads % 8 == 0 && 64 % (Threads / 8) == 0, "whole rows per pass");
  constexpr int row_step = Threads / 8;
  const int q = static_cast<int>(threadIdx.x) % Threads, r0 = q / 8, c = q % 8;
  const T* src = g + r0 * ld + c * 8;
  T* dst = s + r0 * 64 + ((c ^ (r0 & 7)) << 3);  // row_step is a multiple of 8: the same swizzle every pass
#pragma unroll
  for (int i = 0; i < 64 / row_step; ++i)
    cp_async16(dst + i * row_step * 64, src + i * row_step * ld, r0 + i * row_step < valid_rows);
}

// Copies the rows < valid_rows of a tile to g (row stride ld) in 16-byte stores, 8 threads per row.
template <class T, int Threads>
__device__ __forceinline__ void store_tile(const T* s, T* g, int64_t ld, int valid_rows) {
  constexpr int row_step = Threads / 8;
  const int q = static_cast<int>(threadIdx.x) % Threads, r0 = q / 8, c = q % 8;
  const T* src = s + r0 * 64 + ((c ^ (r0 & 7)) << 3);
#pragma unroll
  for (int i = 0; i < 64 / row_step; ++i)
    if (r0 + i * row_step < valid_rows)
      *reinterpret_cast<int4*>(g + (r0 + i * row_step) * ld + c * 8) =
          *reinterpret_cast<const int4*>(src + i * row_step * 64);
}

// The descriptor of a region of tiles starting at s: 128-byte swizzle, 8-row groups 1024 bytes apart
// (the leading offset is unused with one 128-byte row per operand row).
__device__ __forceinline__ uint64_t desc(const void* s) {
  const uint64_t addr = static_cast<uint32_t>(__cvta_generic_to_shared(s));
  return ((addr & 0x3FFFF) >> 4) | (uint64_t{1} << 16) | (uint64_t{1024 >> 4} << 32) | (uint64_t{1} << 62);
}
// The operand of k-slice k0 (a multiple of 16) of the tile `tile` elements into the region whose descriptor
// is base: its columns k0.. (K-major) or rows k0.. (MN-major). The start address field (bytes / 16) is
// simply advanced: one add per wgmma instead of a descriptor computed from an address (~8 uniform
// instructions each).
template <bool KMajor, class T>
__device__ __forceinline__ uint64_t desc_k(uint64_t base, int tile, int k0) {
  const uint32_t k_offset = static_cast<uint32_t>(KMajor ? k0 : k0 * 64);
  return base + (static_cast<uint32_t>(tile) * sizeof(T) >> 4) + (k_offset * sizeof(T) >> 4);
}

// The instructions exist on sm_90a only: compiled for another target (the library's default targets
// include sm_80) each traps, and the host launches the kernels that use them only where the device and
// the build have sm_90a (chunkwise_wgmma).
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define XLSTM_SM90A_ASM(...) asm volatile(__VA_ARGS__)
#else
#define XLSTM_SM90A_ASM(...) __trap()
#endif

__device__ __forceinline__ void fence() { XLSTM_SM90A_ASM("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void commit() { XLSTM_SM90A_ASM("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void wait() { XLSTM_SM90A_ASM("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory"); }
// Shared memory written by ordinary stores or cp.async, read next by wgmma: each writing thread, before
// the barrier.
__device__ __forceinline__ void fence_async_shared() {
  XLSTM_SM90A_ASM("fence.proxy.async.shared::cta;\n" ::: "memory");
}
// Keeps a register's value where it is until here (registers an in-flight wgmma reads or writes).
__device__ __forceinline__ void keep(float& x) { asm volatile("" : "+f"(x)::"memory"); }
__device__ __forceinline__ void keep(uint32_t& x) { asm volatile("" : "+r"(x)::"memory"); }

using Acc = float[32];

// d += A (64x16 from registers, mma.sync's A fragments per warp) * B (16x64, descriptor; MN-major: TransB 1).
template <int TransB>
__device__ __forceinline__ void mma_rs(Acc& d, const uint32_t (&a)[4], uint64_t b) {
  XLSTM_SM90A_ASM(
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, 1, 1, 1, %37;\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "n"(TransB));
}
// d += A (64x16, descriptor; MN-major: TransA 1) * B (16x64, descriptor).
template <int TransA, int TransB>
__device__ __forceinline__ void mma_ss(Acc& d, uint64_t a, uint64_t b) {
  XLSTM_SM90A_ASM(
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, %32, %33, 1, 1, 1, %34, %35;\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "l"(a), "l"(b), "n"(TransA), "n"(TransB));
}

#undef XLSTM_SM90A_ASM

// d += A B over one 64-wide k range: A the K-major 64x64 tile at element offset a_at, B the MN-major tile at
// b_at, both in the region whose descriptor is base (four k16 steps).
template <class T>
__device__ __forceinline__ void mma_ss_tile(Acc& d, uint64_t base, int a_at, int b_at) {
#pragma unroll
  for (int ks = 0; ks < 4; ++ks)
    mma_ss<0, 1>(d, desc_k<true, T>(base, a_at, 16 * ks), desc_k<false, T>(base, b_at, 16 * ks));
}

// Launches one of the wgmma kernels on their grid, a block per (64 value columns, head), with `smem` bytes
// of dynamic shared memory (past the default limit, hence the attribute).
template <class Kernel>
void launch_per_value_tile(Kernel kernel, int threads, size_t smem, const ChunkwiseParams& p, cudaStream_t stream) {
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  kernel<<<(p.DHV / 64) * p.B * p.NH, threads, smem, stream>>>(p);
}

// The state update from one 64-row slice of a chunk, acc[mt] += (X^T diag(w)) Y, for a warpgroup's MT m64
// tiles of state rows: X^T's fragments come from the slice's X tiles (x: the warpgroup's first, 64
// positions x 64 state rows each) by ldmatrix, each weighted by its position's w and rounded to T in
// registers (as recurrent.cuh's BlockMma does), and Y (64 positions x 64 state columns) is the MN-major B
// operand at element offset y_at of the region whose descriptor is base. The forward's K^T diag(w) V and
// the backward's Q^T diag(u s / den) dH. issue() commits the products; the caller waits for them (after
// its own work in between) and then calls keep().
template <class T, int MT>
struct StateUpdate {
  uint32_t a[MT][4][4];

  __device__ __forceinline__ void issue(Acc (&acc)[MT], const T* x, const float* w, uint64_t base, int y_at) {
    const int lane = static_cast<int>(threadIdx.x) % 32, wq = static_cast<int>(threadIdx.x) / 32 % 4;
    const int sel = lane / 8, row8 = lane % 8;
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int ks = 0; ks < 4; ++ks) {
        const int k0 = 16 * ks, kq = k0 + 2 * (lane % 4);
        ldsm_x4_trans(a[mt][ks], x + mt * kElems + offset(k0 + 8 * (sel >> 1) + row8, 16 * wq + 8 * (sel & 1)));
        scale_a_fragment<T>(a[mt][ks], w[kq], w[kq + 1], w[kq + 8], w[kq + 9]);
      }
    fence();
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
      for (int ks = 0; ks < 4; ++ks) mma_rs<1>(acc[mt], a[mt][ks], desc_k<false, T>(base, y_at, 16 * ks));
    commit();
  }

  // After the wait: the fragments and accumulators stay where the products read and wrote them.
  __device__ __forceinline__ void keep(Acc (&acc)[MT]) {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
      for (int ks = 0; ks < 4; ++ks)
#pragma unroll
        for (int e = 0; e < 4; ++e) wg::keep(a[mt][ks][e]);
#pragma unroll
      for (int i = 0; i < 32; ++i) wg::keep(acc[mt][i]);
    }
  }
};

}  // namespace xlstm::kernels::wg
