// Device building blocks shared by the mLSTM kernels: 64x64 shared-memory tiles filled with cp.async,
// a 64x64x64 block product on 4 warps (tensor-core mma.sync m16n8k16 for fp16/bf16 with fp32
// accumulation; plain fp32 FMA for fp32 inputs, so fp32 results stay fp32-exact), and the accumulator
// layout helpers the kernels' epilogues use.
//
// Accumulator layout (the mma.sync m16n8 C layout, also used by the fp32 path): warp w owns rows
// 32*(w/2) .. +32 and columns 32*(w%2) .. +32 of the 64x64 tile; acc[mt][nt][j] is row
// 32*(w/2) + 16*mt + lane/4 + 8*(j/2), column 32*(w%2) + 8*nt + 2*(lane%4) + j%2.
//
// Operand layouts: a tile is always stored as it lies in memory (rows x 64 columns). A "normal" A
// operand is stored (m, k); a transposed one (k, m). A "row" B operand is stored (k, n), a "col" one
// (n, k) (the transpose of a row-major matrix, as K is for Q K^T).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "common/device.cuh"

namespace xlstm::kernels {

constexpr int kTile = 64;
constexpr int kThreads = 128;

// Row stride of a shared tile in elements: 64 plus 16 bytes of padding (conflict-free ldmatrix).
template <class T>
struct TileLayout {
  static constexpr int ld = kTile + 16 / static_cast<int>(sizeof(T));
  static constexpr int elems = kTile * ld;
  static constexpr int vec = 16 / static_cast<int>(sizeof(T));  // elements per 16-byte access
};

using Acc = float[2][4][4];

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  const int bytes = valid ? 16 : 0;  // 0: fill with zeros, read nothing
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

// Starts copying the 64x64 tile at g (row stride ld elements) into s; rows >= valid_rows become zeros.
template <class T>
__device__ __forceinline__ void load_tile_async(T* s, const T* g, int64_t ld, int valid_rows) {
  using Lt = TileLayout<T>;
  constexpr int per_row = kTile / Lt::vec;
  for (int idx = threadIdx.x; idx < kTile * per_row; idx += kThreads) {
    const int r = idx / per_row, c = (idx % per_row) * Lt::vec;
    const bool valid = r < valid_rows;
    cp_async16(s + r * Lt::ld + c, valid ? g + r * ld + c : g, valid);
  }
}

__device__ __forceinline__ void zero_acc(Acc& acc) {
#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int nt = 0; nt < 4; ++nt)
#pragma unroll
      for (int j = 0; j < 4; ++j) acc[mt][nt][j] = 0.f;
}

// Calls f(row, col, value&) for every accumulator element of this thread.
template <class F>
__device__ __forceinline__ void acc_foreach(Acc& acc, F&& f) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int r0 = 32 * (warp / 2) + lane / 4, c0 = 32 * (warp % 2) + 2 * (lane % 4);
#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int nt = 0; nt < 4; ++nt)
#pragma unroll
      for (int j = 0; j < 4; ++j) f(r0 + 16 * mt + 8 * (j / 2), c0 + 8 * nt + (j % 2), acc[mt][nt][j]);
}

// Sums f(row, col, value) over each of this thread's 4 rows and over the 3 other lanes of its quad:
// part[mt][h] is the share of this warp's 32 columns in row 32*(warp/2) + 16*mt + lane/4 + 8*h.
template <class F>
__device__ __forceinline__ void acc_row_sums(Acc& acc, float (&part)[2][2], F&& f) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int r0 = 32 * (warp / 2) + lane / 4, c0 = 32 * (warp % 2) + 2 * (lane % 4);
#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int r = r0 + 16 * mt + 8 * h;
      float s = 0.f;
#pragma unroll
      for (int nt = 0; nt < 4; ++nt)
        s += f(r, c0 + 8 * nt, acc[mt][nt][2 * h]) + f(r, c0 + 8 * nt + 1, acc[mt][nt][2 * h + 1]);
      s += __shfl_xor_sync(0xffffffffu, s, 1);
      s += __shfl_xor_sync(0xffffffffu, s, 2);
      part[mt][h] = s;
    }
}

// Row index of part[mt][h] from acc_row_sums for this thread.
__device__ __forceinline__ int acc_row(int mt, int h) {
  return 32 * (threadIdx.x / 32 / 2) + (threadIdx.x % 32) / 4 + 16 * mt + 8 * h;
}

// Multiplies the two 16-bit values packed in x (low half first) by s0 and s1, rounding to T once.
template <class T>
__device__ __forceinline__ uint32_t scale_pair(uint32_t x, float s0, float s1);
template <>
__device__ __forceinline__ uint32_t scale_pair<__nv_bfloat16>(uint32_t x, float s0, float s1) {
  const float2 f = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&x));
  const __nv_bfloat162 r = __floats2bfloat162_rn(f.x * s0, f.y * s1);
  return *reinterpret_cast<const uint32_t*>(&r);
}
template <>
__device__ __forceinline__ uint32_t scale_pair<__half>(uint32_t x, float s0, float s1) {
  const float2 f = __half22float2(*reinterpret_cast<const __half2*>(&x));
  const __half2 r = __floats2half2_rn(f.x * s0, f.y * s1);
  return *reinterpret_cast<const uint32_t*>(&r);
}

// acc += A (64 x 64) * B (64 x 64) from shared tiles laid out as described at the top. With kscale
// (64 floats in shared memory) the product is A diag(kscale) B: each A element is multiplied by the
// weight of its reduction index and rounded to T in registers, as if the tile had been scaled in place.
template <class T, bool ATrans, bool BRow>
struct BlockMma {
  __device__ __forceinline__ static void run(Acc& acc, const T* sA, const T* sB, const float* kscale = nullptr) {
    constexpr int ld = TileLayout<T>::ld;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int wm = 32 * (warp / 2), wn = 32 * (warp % 2);
    const int sel = lane / 8, row8 = lane % 8;
#pragma unroll
    for (int k0 = 0; k0 < kTile; k0 += 16) {
      uint32_t af[2][4], bf[2][4];
#pragma unroll
      for (int mt = 0; mt < 2; ++mt) {
        const int m0 = wm + 16 * mt;
        if (ATrans)  // stored (k, m); matrices (m-half, k-half) = (sel & 1, sel >> 1)
          ldsm_x4_trans(af[mt], sA + (k0 + 8 * (sel >> 1) + row8) * ld + m0 + 8 * (sel & 1));
        else
          ldsm_x4(af[mt], sA + (m0 + (lane % 16)) * ld + k0 + 8 * (lane / 16));
      }
      if (kscale) {  // A fragment: registers 0, 1 hold k = k0 + 2 (lane % 4) + {0, 1}; 2, 3 the same + 8
        const int kq = k0 + 2 * (lane % 4);
        const float s0 = kscale[kq], s1 = kscale[kq + 1], s8 = kscale[kq + 8], s9 = kscale[kq + 9];
#pragma unroll
        for (int mt = 0; mt < 2; ++mt) {
          af[mt][0] = scale_pair<T>(af[mt][0], s0, s1);
          af[mt][1] = scale_pair<T>(af[mt][1], s0, s1);
          af[mt][2] = scale_pair<T>(af[mt][2], s8, s9);
          af[mt][3] = scale_pair<T>(af[mt][3], s8, s9);
        }
      }
#pragma unroll
      for (int np = 0; np < 2; ++np) {
        const int n0 = wn + 16 * np;  // matrices (n-half, k-half) = (sel >> 1, sel & 1)
        if (BRow)  // stored (k, n)
          ldsm_x4_trans(bf[np], sB + (k0 + 8 * (sel & 1) + row8) * ld + n0 + 8 * (sel >> 1));
        else  // stored (n, k)
          ldsm_x4(bf[np], sB + (n0 + 8 * (sel >> 1) + row8) * ld + k0 + 8 * (sel & 1));
      }
#pragma unroll
      for (int mt = 0; mt < 2; ++mt)
#pragma unroll
        for (int nt = 0; nt < 4; ++nt)
          mma_16816<T>(acc[mt][nt], af[mt], bf[nt / 2][2 * (nt % 2)], bf[nt / 2][2 * (nt % 2) + 1]);
    }
  }
};

// fp32: the same product and accumulator layout with FMAs (no TF32).
template <bool ATrans, bool BRow>
struct BlockMma<float, ATrans, BRow> {
  __device__ __forceinline__ static void run(Acc& acc, const float* sA, const float* sB,
                                             const float* kscale = nullptr) {
    constexpr int ld = TileLayout<float>::ld;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int r0 = 32 * (warp / 2) + lane / 4, c0 = 32 * (warp % 2) + 2 * (lane % 4);
#pragma unroll 4
    for (int k = 0; k < kTile; ++k) {
      float a[2][2], b[4][2];
#pragma unroll
      for (int mt = 0; mt < 2; ++mt)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int r = r0 + 16 * mt + 8 * h;
          a[mt][h] = ATrans ? sA[k * ld + r] : sA[r * ld + k];
          if (kscale) a[mt][h] *= kscale[k];
        }
#pragma unroll
      for (int nt = 0; nt < 4; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int c = c0 + 8 * nt + e;
          b[nt][e] = BRow ? sB[k * ld + c] : sB[c * ld + k];
        }
#pragma unroll
      for (int mt = 0; mt < 2; ++mt)
#pragma unroll
        for (int nt = 0; nt < 4; ++nt)
#pragma unroll
          for (int j = 0; j < 4; ++j) acc[mt][nt][j] = fmaf(a[mt][j / 2], b[nt][j % 2], acc[mt][nt][j]);
    }
  }
};

// Writes f(row, col, value) of the accumulator as a 64x64 tile of T at g (row stride ld, rows >=
// valid_rows skipped), staged through the shared tile s for 16-byte stores. Synchronises the block.
template <class T, class F>
__device__ __forceinline__ void store_tile(Acc& acc, T* g, int64_t ld, int valid_rows, T* s, F&& f) {
  using Lt = TileLayout<T>;
  acc_foreach(acc, [&](int r, int c, float& x) { s[r * Lt::ld + c] = from_float<T>(f(r, c, x)); });
  __syncthreads();
  constexpr int per_row = kTile / Lt::vec;
  for (int idx = threadIdx.x; idx < kTile * per_row; idx += kThreads) {
    const int r = idx / per_row, c = (idx % per_row) * Lt::vec;
    if (r < valid_rows) *reinterpret_cast<int4*>(g + r * ld + c) = *reinterpret_cast<const int4*>(s + r * Lt::ld + c);
  }
  __syncthreads();
}

// The part of a (B, NH, S, D) tensor that belongs to head bh.
template <class T>
__device__ __forceinline__ T* head_ptr(void* base, int64_t sb, int64_t sh, int bh, int NH) {
  return static_cast<T*>(base) + (bh / NH) * sb + (bh % NH) * sh;
}

// Sum over the block (every thread gets it); red holds one value per warp.
template <class V>
__device__ __forceinline__ V block_sum(V x, V* red) {
  for (int o = 16; o > 0; o /= 2) x += __shfl_xor_sync(0xffffffffu, x, o);
  __syncthreads();
  if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = x;
  __syncthreads();
  V s = 0;
  for (int w = 0; w < static_cast<int>(blockDim.x) / 32; ++w) s += red[w];
  return s;
}

}  // namespace xlstm::kernels

namespace xlstm::kernels {

// Where the k-th 64x64 tile of a GEMM operand lies: at ptr + kt * kstep, with rows - kt * rows_kstep
// valid rows (rows_kstep is 64 when the reduction runs along the stored rows, 0 otherwise).
template <class T>
struct TileSrc {
  const T* ptr;
  int64_t ld, kstep;
  int rows, rows_kstep;
  __device__ __forceinline__ const T* at(int kt) const { return ptr + kt * kstep; }
  __device__ __forceinline__ int valid(int kt) const { return rows - kt * rows_kstep; }
};

// acc += sum over kt in [kt0, kt1) of A_kt * B_kt, double-buffered through the 4 shared tiles at stage.
template <class T, bool ATrans, bool BRow>
__device__ __forceinline__ void gemm_tiles(Acc& acc, const TileSrc<T>& a, const TileSrc<T>& b, int kt0, int kt1,
                                           T* stage) {
  constexpr int E = TileLayout<T>::elems;
  if (kt0 >= kt1) return;
  load_tile_async(stage, a.at(kt0), a.ld, a.valid(kt0));
  load_tile_async(stage + E, b.at(kt0), b.ld, b.valid(kt0));
  cp_async_commit();
  for (int kt = kt0; kt < kt1; ++kt) {
    T* cur = stage + 2 * E * ((kt - kt0) & 1);
    if (kt + 1 < kt1) {
      T* next = stage + 2 * E * ((kt + 1 - kt0) & 1);
      load_tile_async(next, a.at(kt + 1), a.ld, a.valid(kt + 1));
      load_tile_async(next + E, b.at(kt + 1), b.ld, b.valid(kt + 1));
      cp_async_commit();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();
    BlockMma<T, ATrans, BRow>::run(acc, cur, cur + E);
    __syncthreads();
  }
}

}  // namespace xlstm::kernels
