// Device building blocks shared by the mLSTM kernels: 64x64 shared-memory tiles filled with cp.async,
// block products on 4 or 8 warps (tensor-core mma.sync m16n8k16 for fp16/bf16 with fp32 accumulation;
// plain fp32 FMA for fp32 inputs, so fp32 results stay fp32-exact), and the accumulator layout helpers
// the kernels' epilogues use.
//
// Output tiles (Tiling): WM x WN warps, each owning MT x NT mma tiles of 16 rows x 8 columns. Tile64
// (64x64 on 4 warps of 32x32) serves every kernel; Tile128 (128x128 on 8 warps of 32x64) the parallel
// products of bf16 inputs, where it halves the operand reloads from L2 (chunk_gemm.cuh).
// Accumulator layout (the mma.sync m16n8 C layout, also used by the fp32 path): warp w owns rows
// 16*MT*(w/WN) .. and columns 8*NT*(w%WN) ..; acc[mt][nt][j] is row 16*MT*(w/WN) + 16*mt + lane/4 +
// 8*(j/2), column 8*NT*(w%WN) + 8*nt + 2*(lane%4) + j%2.
//
// Operand layouts: a tile is always stored as it lies in memory (rows x 64 columns), an operand wider
// than 64 in m or n as 64x64 sub-tiles one after the other. A "normal" A operand is stored (m, k); a
// transposed one (k, m). A "row" B operand is stored (k, n), a "col" one (n, k) (the transpose of a
// row-major matrix, as K is for Q K^T).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#include "common/device.cuh"

namespace xlstm::kernels {

constexpr int kTile = 64;
constexpr int kThreads = 128;  // Tile64's block

// Row stride of a shared tile in elements: 64 plus 16 bytes of padding (conflict-free ldmatrix).
template <class T>
struct TileLayout {
  static constexpr int ld = kTile + 16 / static_cast<int>(sizeof(T));
  static constexpr int elems = kTile * ld;
  static constexpr int vec = 16 / static_cast<int>(sizeof(T));  // elements per 16-byte access
};

template <int WM_, int WN_, int MT_, int NT_>
struct Tiling {
  static constexpr int WM = WM_, WN = WN_, MT = MT_, NT = NT_;
  static constexpr int threads = 32 * WM * WN;
  static constexpr int rows = 16 * MT * WM, cols = 8 * NT * WN;
  static constexpr int ms = rows / kTile, ns = cols / kTile;  // 64x64 sub-tiles of A (along m) and B (along n)
  static_assert(64 % (16 * MT) == 0 && 64 % (8 * NT) == 0, "a warp's tile lies inside one 64x64 sub-tile");
  static_assert(NT % 2 == 0 && rows % kTile == 0 && cols % kTile == 0, "whole x4 B loads and sub-tiles");
  using Acc = float[MT][NT][4];
  __device__ __forceinline__ static int warp_row() { return 16 * MT * (static_cast<int>(threadIdx.x) / 32 / WN); }
  __device__ __forceinline__ static int warp_col() { return 8 * NT * (static_cast<int>(threadIdx.x) / 32 % WN); }
};
using Tile64 = Tiling<2, 2, 2, 4>;
using Tile128 = Tiling<4, 2, 2, 8>;
using Acc = Tile64::Acc;

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  const int bytes = valid ? 16 : 0;  // 0: fill with zeros, read nothing
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(bytes));
}
// A 4- or 8-byte copy (through L1); valid false fills zeros.
template <int Bytes>
__device__ __forceinline__ void cp_async_small(void* smem, const void* gmem, bool valid) {
  static_assert(Bytes == 4 || Bytes == 8, "cp.async.ca copies 4, 8 or 16 bytes");
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;\n" ::"r"(s), "l"(gmem), "n"(Bytes), "r"(valid ? Bytes : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

// Starts copying the 64x64 tile at g (row stride ld elements) into s; rows >= valid_rows become zeros.
// A thread copies the same 16 bytes of every Threads / (64 / vec)-th row: one 64-bit address computed
// per tile, then advanced (the index arithmetic per copy was a third of the recurrent kernel's
// instructions). A row past the end is a copy of 0 bytes (zero fill): its address is not read, so it
// needs no select of a safe one (that was 2 of the ~5 instructions per copy).
template <class T, int Threads = kThreads>
__device__ __forceinline__ void load_tile_async(T* s, const T* g, int64_t ld, int valid_rows) {
  using Lt = TileLayout<T>;
  constexpr int per_row = kTile / Lt::vec, row_step = Threads / per_row;
  static_assert(Threads % per_row == 0 && kTile % row_step == 0, "whole rows per pass");
  const int r0 = static_cast<int>(threadIdx.x) / per_row, c = (static_cast<int>(threadIdx.x) % per_row) * Lt::vec;
  const T* src = g + r0 * ld + c;
  T* dst = s + r0 * Lt::ld + c;
  const int64_t src_step = row_step * ld;
#pragma unroll
  for (int i = 0; i < kTile / row_step; ++i) {
    cp_async16(dst + i * row_step * Lt::ld, src, r0 + i * row_step < valid_rows);
    src += src_step;
  }
}

template <class Tl = Tile64>
__device__ __forceinline__ void zero_acc(typename Tl::Acc& acc) {
#pragma unroll
  for (int mt = 0; mt < Tl::MT; ++mt)
#pragma unroll
    for (int nt = 0; nt < Tl::NT; ++nt)
#pragma unroll
      for (int j = 0; j < 4; ++j) acc[mt][nt][j] = 0.f;
}

// Calls f(mt, nt, j, row, col) for every accumulator index [mt][nt][j] of this thread (for products of
// several accumulators element by element).
template <class Tl = Tile64, class F>
__device__ __forceinline__ void acc_index_foreach(F&& f) {
  const int lane = threadIdx.x % 32;
  const int r0 = Tl::warp_row() + lane / 4, c0 = Tl::warp_col() + 2 * (lane % 4);
#pragma unroll
  for (int mt = 0; mt < Tl::MT; ++mt)
#pragma unroll
    for (int nt = 0; nt < Tl::NT; ++nt)
#pragma unroll
      for (int j = 0; j < 4; ++j) f(mt, nt, j, r0 + 16 * mt + 8 * (j / 2), c0 + 8 * nt + (j % 2));
}

// Calls f(row, col, value&) for every accumulator element of this thread.
template <class Tl = Tile64, class F>
__device__ __forceinline__ void acc_foreach(typename Tl::Acc& acc, F&& f) {
  acc_index_foreach<Tl>([&](int mt, int nt, int j, int r, int c) { f(r, c, acc[mt][nt][j]); });
}

// Sums f(row, col, value) over each of this thread's rows and over the 3 other lanes of its quad:
// part[mt][h] is the share of this warp's columns in row acc_row<Tl>(mt, h).
template <class Tl = Tile64, class F>
__device__ __forceinline__ void acc_row_sums(typename Tl::Acc& acc, float (&part)[Tl::MT][2], F&& f) {
  const int lane = threadIdx.x % 32;
  const int r0 = Tl::warp_row() + lane / 4, c0 = Tl::warp_col() + 2 * (lane % 4);
#pragma unroll
  for (int mt = 0; mt < Tl::MT; ++mt)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int r = r0 + 16 * mt + 8 * h;
      float s = 0.f;
#pragma unroll
      for (int nt = 0; nt < Tl::NT; ++nt)
        s += f(r, c0 + 8 * nt, acc[mt][nt][2 * h]) + f(r, c0 + 8 * nt + 1, acc[mt][nt][2 * h + 1]);
      s += __shfl_xor_sync(0xffffffffu, s, 1);
      s += __shfl_xor_sync(0xffffffffu, s, 2);
      part[mt][h] = s;
    }
}

// Row index of part[mt][h] from acc_row_sums for this thread.
template <class Tl = Tile64>
__device__ __forceinline__ int acc_row(int mt, int h) {
  return Tl::warp_row() + (static_cast<int>(threadIdx.x) % 32) / 4 + 16 * mt + 8 * h;
}

// Two adjacent values of T from two floats (one 4-byte store for 16-bit T, 8 bytes for fp32), and back
// (a bf16 is the upper half of its float: one shift and one mask, where __bfloat1622float2 takes three).
template <class T>
struct PairOf;
template <>
struct PairOf<float> {
  using type = float2;
  __device__ __forceinline__ static float2 make(float a, float b) { return make_float2(a, b); }
  __device__ __forceinline__ static float2 split(float2 x) { return x; }
};
template <>
struct PairOf<__nv_bfloat16> {
  using type = __nv_bfloat162;
  __device__ __forceinline__ static __nv_bfloat162 make(float a, float b) { return __floats2bfloat162_rn(a, b); }
  __device__ __forceinline__ static float2 split(__nv_bfloat162 x) {
    const uint32_t u = *reinterpret_cast<const uint32_t*>(&x);
    return make_float2(__uint_as_float(u << 16), __uint_as_float(u & 0xffff0000u));
  }
};
template <>
struct PairOf<__half> {
  using type = __half2;
  __device__ __forceinline__ static __half2 make(float a, float b) { return __floats2half2_rn(a, b); }
  __device__ __forceinline__ static float2 split(__half2 x) { return __half22float2(x); }
};

// Multiplies the two 16-bit values packed in x (low half first) by s0 and s1, rounding to T once.
template <class T>
__device__ __forceinline__ uint32_t scale_pair(uint32_t x, float s0, float s1) {
  using Pair = PairOf<T>;
  const float2 f = Pair::split(*reinterpret_cast<const typename Pair::type*>(&x));
  const typename Pair::type r = Pair::make(f.x * s0, f.y * s1);
  return *reinterpret_cast<const uint32_t*>(&r);
}

// Weights an A fragment of mma's m16n8k16 layout by the weights of its reduction indices: registers 0
// and 1 hold k = kq + {0, 1}, registers 2 and 3 k = kq + {8, 9} (kq = k0 + 2 (lane % 4)).
template <class T>
__device__ __forceinline__ void scale_a_fragment(uint32_t (&f)[4], float s0, float s1, float s8, float s9) {
  f[0] = scale_pair<T>(f[0], s0, s1);
  f[1] = scale_pair<T>(f[1], s0, s1);
  f[2] = scale_pair<T>(f[2], s8, s9);
  f[3] = scale_pair<T>(f[3], s8, s9);
}

// The one of `Count` shared sub-tiles (TileLayout::elems apart) that holds this warp's rows (A) or
// columns (B), which start at `first` of the operand; the warp's offset in it is first % kTile. With one
// sub-tile both are known at compile time (the compiler cannot tell that first < 64).
template <int Count, class T>
__device__ __forceinline__ const T* warp_subtile(const T* s, int first) {
  return Count == 1 ? s : s + (first / kTile) * TileLayout<T>::elems;
}
template <int Count>
__device__ __forceinline__ int subtile_offset(int first) {
  return Count == 1 ? first : first % kTile;
}

// acc += A (Tl::rows x 64) * B (64 x Tl::cols) from shared tiles laid out as described at the top. With
// kscale (64 floats in shared memory) the product is A diag(kscale) B: each A element is multiplied by
// the weight of its reduction index and rounded to T in registers, as if the tile had been scaled in place.
template <class T, bool ATrans, bool BRow, class Tl = Tile64>
struct BlockMma {
  __device__ __forceinline__ static void run(typename Tl::Acc& acc, const T* sA, const T* sB,
                                             const float* kscale = nullptr) {
    constexpr int ld = TileLayout<T>::ld;
    const int lane = threadIdx.x % 32;
    const int wm = Tl::warp_row(), wn = Tl::warp_col();
    const T* A = warp_subtile<Tl::ms>(sA, wm);
    const T* B = warp_subtile<Tl::ns>(sB, wn);
    const int am = subtile_offset<Tl::ms>(wm), bn = subtile_offset<Tl::ns>(wn);
    const int sel = lane / 8, row8 = lane % 8;
#pragma unroll
    for (int k0 = 0; k0 < kTile; k0 += 16) {
      uint32_t af[Tl::MT][4], bf[Tl::NT / 2][4];
#pragma unroll
      for (int mt = 0; mt < Tl::MT; ++mt) {
        const int m0 = am + 16 * mt;
        if (ATrans)  // stored (k, m); matrices (m-half, k-half) = (sel & 1, sel >> 1)
          ldsm_x4_trans(af[mt], A + (k0 + 8 * (sel >> 1) + row8) * ld + m0 + 8 * (sel & 1));
        else
          ldsm_x4(af[mt], A + (m0 + (lane % 16)) * ld + k0 + 8 * (lane / 16));
      }
      if (kscale) {
        const int kq = k0 + 2 * (lane % 4);
        const float s0 = kscale[kq], s1 = kscale[kq + 1], s8 = kscale[kq + 8], s9 = kscale[kq + 9];
#pragma unroll
        for (int mt = 0; mt < Tl::MT; ++mt) scale_a_fragment<T>(af[mt], s0, s1, s8, s9);
      }
#pragma unroll
      for (int np = 0; np < Tl::NT / 2; ++np) {
        const int n0 = bn + 16 * np;  // matrices (n-half, k-half) = (sel >> 1, sel & 1)
        if (BRow)  // stored (k, n)
          ldsm_x4_trans(bf[np], B + (k0 + 8 * (sel & 1) + row8) * ld + n0 + 8 * (sel >> 1));
        else  // stored (n, k)
          ldsm_x4(bf[np], B + (n0 + 8 * (sel >> 1) + row8) * ld + k0 + 8 * (sel & 1));
      }
#pragma unroll
      for (int mt = 0; mt < Tl::MT; ++mt)
#pragma unroll
        for (int nt = 0; nt < Tl::NT; ++nt)
          mma_16816<T>(acc[mt][nt], af[mt], bf[nt / 2][2 * (nt % 2)], bf[nt / 2][2 * (nt % 2) + 1]);
    }
  }
};

// fp32: the same product and accumulator layout with FMAs (no TF32).
template <bool ATrans, bool BRow, class Tl>
struct BlockMma<float, ATrans, BRow, Tl> {
  __device__ __forceinline__ static void run(typename Tl::Acc& acc, const float* sA, const float* sB,
                                             const float* kscale = nullptr) {
    constexpr int ld = TileLayout<float>::ld;
    const int lane = threadIdx.x % 32;
    const int wm = Tl::warp_row(), wn = Tl::warp_col();
    const float* A = warp_subtile<Tl::ms>(sA, wm);
    const float* B = warp_subtile<Tl::ns>(sB, wn);
    const int r0 = subtile_offset<Tl::ms>(wm) + lane / 4, c0 = subtile_offset<Tl::ns>(wn) + 2 * (lane % 4);
#pragma unroll 4
    for (int k = 0; k < kTile; ++k) {
      float a[Tl::MT][2], b[Tl::NT][2];
#pragma unroll
      for (int mt = 0; mt < Tl::MT; ++mt)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int r = r0 + 16 * mt + 8 * h;
          a[mt][h] = ATrans ? A[k * ld + r] : A[r * ld + k];
          if (kscale) a[mt][h] *= kscale[k];
        }
#pragma unroll
      for (int nt = 0; nt < Tl::NT; ++nt)
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int c = c0 + 8 * nt + e;
          b[nt][e] = BRow ? B[k * ld + c] : B[c * ld + k];
        }
#pragma unroll
      for (int mt = 0; mt < Tl::MT; ++mt)
#pragma unroll
        for (int nt = 0; nt < Tl::NT; ++nt)
#pragma unroll
          for (int j = 0; j < 4; ++j) acc[mt][nt][j] = fmaf(a[mt][j / 2], b[nt][j % 2], acc[mt][nt][j]);
    }
  }
};

// The two halves of store_tile, for kernels that place the barrier between them themselves (the state
// walk): stage_acc writes f(row, col, value) of the accumulator into the Tl::ms * Tl::ns shared
// sub-tiles at s; after a barrier, copy_staged copies them to the Tl::rows x Tl::cols tile at g (row
// stride ld, rows >= valid_rows skipped) in 16-byte stores.
template <class Tl, class T, class F>
__device__ __forceinline__ void stage_acc(typename Tl::Acc& acc, T* s, F&& f) {
  using Lt = TileLayout<T>;
  // A warp's accumulator lies in one sub-tile.
  const int wr = Tl::warp_row() / kTile * kTile, wc = Tl::warp_col() / kTile * kTile;
  T* ws = s + ((wr / kTile) * Tl::ns + wc / kTile) * Lt::elems;
  acc_foreach<Tl>(acc, [&](int r, int c, float& x) { ws[(r - wr) * Lt::ld + c - wc] = from_float<T>(f(r, c, x)); });
}
template <class Tl, class T>
__device__ __forceinline__ void copy_staged(const T* s, T* g, int64_t ld, int valid_rows) {
  using Lt = TileLayout<T>;
  // A thread copies the same 16 bytes of every row_step-th row, so that its offsets are fixed once
  // (the index arithmetic per copy was ~130 instructions of the state walk's chunk start).
  constexpr int per_row = Tl::cols / Lt::vec, row_step = Tl::threads / per_row;
  static_assert(Tl::threads % per_row == 0 && kTile % row_step == 0, "whole rows per pass, inside a sub-tile");
  const int r0 = static_cast<int>(threadIdx.x) / per_row, c = (static_cast<int>(threadIdx.x) % per_row) * Lt::vec;
  const T* src = s + (c / kTile) * Lt::elems + r0 * Lt::ld + c % kTile;
  T* dst = g + r0 * ld + c;
#pragma unroll
  for (int i = 0; i < Tl::rows / row_step; ++i) {
    const int r = i * row_step;  // + r0; sub-tile r / kTile, row r % kTile + r0 in it
    if (r0 + r < valid_rows)
      *reinterpret_cast<int4*>(dst + r * ld) =
          *reinterpret_cast<const int4*>(src + (r / kTile) * Tl::ns * Lt::elems + (r % kTile) * Lt::ld);
  }
}

// Writes f(row, col, value) of the accumulator as a Tl::rows x Tl::cols tile of T at g (row stride ld,
// rows >= valid_rows skipped), staged through the Tl::ms * Tl::ns shared sub-tiles at s for 16-byte
// stores. Synchronises the block.
template <class Tl = Tile64, class T, class F>
__device__ __forceinline__ void store_tile(typename Tl::Acc& acc, T* g, int64_t ld, int valid_rows, T* s, F&& f) {
  stage_acc<Tl>(acc, s, f);
  __syncthreads();
  copy_staged<Tl>(s, g, ld, valid_rows);
  __syncthreads();
}

// Writes the accumulator as a Tl::rows x Tl::cols tile of T at g (row stride ld, even) straight from the
// registers, each accumulator pair of adjacent columns in one store: no shared-memory staging and no
// barrier (store_tile's round trip cost a loop sequential kernels pay at every chunk).
template <class Tl, class T>
__device__ __forceinline__ void store_acc_pairs(const typename Tl::Acc& acc, T* g, int64_t ld) {
  using Pair = PairOf<T>;
  const int lane = threadIdx.x % 32;
  T* base = g + static_cast<int64_t>(Tl::warp_row() + lane / 4) * ld + Tl::warp_col() + 2 * (lane % 4);
#pragma unroll
  for (int mt = 0; mt < Tl::MT; ++mt)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      T* row = base + (16 * mt + 8 * h) * ld;
#pragma unroll
      for (int nt = 0; nt < Tl::NT; ++nt)
        *reinterpret_cast<typename Pair::type*>(row + 8 * nt) = Pair::make(acc[mt][nt][2 * h], acc[mt][nt][2 * h + 1]);
    }
}

// Starts copying the Tl::rows x Tl::cols tile at g (row stride ld) into s as 64x64 sub-tiles (store_tile's
// staging layout); rows >= valid_rows become zeros. Does not commit.
template <class T, class Tl>
__device__ __forceinline__ void load_block_tile_async(T* s, const T* g, int64_t ld, int valid_rows) {
#pragma unroll
  for (int i = 0; i < Tl::ms; ++i)
#pragma unroll
    for (int j = 0; j < Tl::ns; ++j)
      load_tile_async<T, Tl::threads>(s + (i * Tl::ns + j) * TileLayout<T>::elems, g + i * kTile * ld + j * kTile, ld,
                                      valid_rows - i * kTile);
}

// acc_row_sums of this thread's accumulator elements times the elements at their (row, column) of the
// Tl::rows x Tl::cols tile held at s as 64x64 shared sub-tiles (load_block_tile_async's layout).
template <class Tl, class T>
__device__ __forceinline__ void acc_row_dots_tile(typename Tl::Acc& acc, const T* s, float (&part)[Tl::MT][2]) {
  using Lt = TileLayout<T>;
  const int lane = threadIdx.x % 32, r0 = Tl::warp_row() + lane / 4, c0 = Tl::warp_col() + 2 * (lane % 4);
  // (r0, c0) in its sub-tile; the thread's other elements lie in the same one (Tiling), at fixed offsets
  const T* base = s + ((r0 / kTile) * Tl::ns + c0 / kTile) * Lt::elems + (r0 % kTile) * Lt::ld + c0 % kTile;
  acc_row_sums<Tl>(acc, part, [&](int r, int c, float v) { return v * to_float(base[(r - r0) * Lt::ld + c - c0]); });
}

// The sum over this thread's accumulator elements of each times the element at its (row, column) of the
// Tl::rows x Tl::cols tile held at s as 64x64 shared sub-tiles (store_tile's staging layout), read as
// pairs of adjacent columns with offsets fixed at compile time.
template <class Tl, class T>
__device__ __forceinline__ float acc_dot_tile(const typename Tl::Acc& acc, const T* s) {
  using Lt = TileLayout<T>;
  using Pair = PairOf<T>;
  const int lane = threadIdx.x % 32, wr = Tl::warp_row(), wc = Tl::warp_col();
  const T* base = s + ((wr / kTile) * Tl::ns + wc / kTile) * Lt::elems + (wr % kTile + lane / 4) * Lt::ld +
                  wc % kTile + 2 * (lane % 4);
  float d = 0.f;
#pragma unroll
  for (int mt = 0; mt < Tl::MT; ++mt)
#pragma unroll
    for (int h = 0; h < 2; ++h)
#pragma unroll
      for (int nt = 0; nt < Tl::NT; ++nt) {
        const float2 x = Pair::split(*reinterpret_cast<const typename Pair::type*>(base + (16 * mt + 8 * h) * Lt::ld + 8 * nt));
        d += acc[mt][nt][2 * h] * x.x + acc[mt][nt][2 * h + 1] * x.y;
      }
  return d;
}

// The part of a (B, NH, S, D) tensor that belongs to head bh.
template <class T>
__device__ __forceinline__ T* head_ptr(void* base, int64_t sb, int64_t sh, int bh, int NH) {
  return static_cast<T*>(base) + (bh / NH) * sb + (bh % NH) * sh;
}

// Sum over the block (every thread gets it); red holds one value per warp.
template <class V>
__device__ __forceinline__ V block_sum(V x, V* red) {
  x = warp_sum(x);
  __syncthreads();
  if (threadIdx.x % 32 == 0) red[threadIdx.x / 32] = x;
  __syncthreads();
  V s = 0;
  for (int w = 0; w < static_cast<int>(blockDim.x) / 32; ++w) s += red[w];
  return s;
}

}  // namespace xlstm::kernels

namespace xlstm::kernels {

// Where the k-th 64-wide slice of a GEMM operand lies: at ptr + kt * kstep, with rows - kt * rows_kstep
// valid rows (rows_kstep is 64 when the reduction runs along the stored rows, 0 otherwise). An operand
// of several 64x64 sub-tiles (Tiling::ms, ns) has them 64 stored rows apart where m (A) or n (B) runs
// along the stored rows (normal A, "col" B), else 64 columns apart.
template <class T>
struct TileSrc {
  const T* ptr;
  int64_t ld, kstep;
  int rows, rows_kstep;
  __device__ __forceinline__ const T* at(int kt) const { return ptr + kt * kstep; }
  __device__ __forceinline__ int valid(int kt) const { return rows - kt * rows_kstep; }
  template <int Threads>
  __device__ __forceinline__ void load(T* s, int kt, int sub, bool along_rows) const {
    if (along_rows) load_tile_async<T, Threads>(s, at(kt) + sub * kTile * ld, ld, valid(kt) - sub * kTile);
    else load_tile_async<T, Threads>(s, at(kt) + sub * kTile, ld, valid(kt));
  }
};

struct EverySlice {
  __device__ __forceinline__ bool operator()(int) const { return true; }
};

// No copies after a product's last slice (see slice_pipeline).
struct NoTail {
  __device__ __forceinline__ void operator()() const {}
};

// The double-buffered slice loop of the products below, over slices [kt0, kt1): issue(kt) copies slice kt
// into buffer (kt - kt0) % 2 and commits them, one slice ahead of the one multiplied, which mma(kt) does
// between two barriers (after the second, the buffer is free for the copies issued next). Ends with a
// barrier (the buffers are free again). (One barrier per slice, issuing the copies after it, costs the
// scores kernel 70 registers.) A tail other than NoTail issues and commits copies of the caller's into
// the buffer that follows the last slice's, while that slice multiplies; the caller waits for them
// (cp_async_wait<0> and a barrier) and must not issue copies into that buffer before it has read them.
template <class Issue, class Mma, class Tail = NoTail>
__device__ __forceinline__ void slice_pipeline(int kt0, int kt1, Issue&& issue, Mma&& mma, Tail&& tail = {}) {
  constexpr bool tail_copies = !std::is_same<std::decay_t<Tail>, NoTail>::value;
  if (kt0 >= kt1) {
    if constexpr (tail_copies) tail();
    return;
  }
  issue(kt0);
  for (int kt = kt0; kt < kt1; ++kt) {
    if (kt + 1 < kt1) {
      issue(kt + 1);
      cp_async_wait<1>();
    } else if constexpr (tail_copies) {
      tail();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();
    mma(kt);
    __syncthreads();
  }
}

// Copies slice kt of A and B into buf (Tl::ms A and Tl::ns B sub-tiles) and commits them.
template <class T, bool ATrans, bool BRow, class Tl>
__device__ __forceinline__ void issue_slice(const TileSrc<T>& a, const TileSrc<T>& b, int kt, T* buf) {
  constexpr int E = TileLayout<T>::elems;
#pragma unroll
  for (int i = 0; i < Tl::ms; ++i) a.template load<Tl::threads>(buf + i * E, kt, i, !ATrans);
#pragma unroll
  for (int i = 0; i < Tl::ns; ++i) b.template load<Tl::threads>(buf + (Tl::ms + i) * E, kt, i, !BRow);
  cp_async_commit();
}

// Shared memory of a product's two stage buffers.
template <class T, class Tl>
constexpr size_t stage_bytes() {
  return 2 * (Tl::ms + Tl::ns) * TileLayout<T>::elems * sizeof(T);
}

// acc += sum over kt in [kt0, kt1) of A_kt * B_kt through stage (two buffers of Tl::ms + Tl::ns
// sub-tiles). active(kt) false: this warp skips the product of slice kt (its part of A is known to be zero
// there, and may not have been written: a causal block across the diagonal). tail(buf): see
// slice_pipeline; buf is the stage buffer that follows the last slice's.
template <class T, bool ATrans, bool BRow, class Tl = Tile64, class Active = EverySlice, class Tail = NoTail>
__device__ __forceinline__ void gemm_tiles(typename Tl::Acc& acc, const TileSrc<T>& a, const TileSrc<T>& b, int kt0,
                                           int kt1, T* stage, Active active = {}, Tail tail = {}) {
  constexpr int E = TileLayout<T>::elems, per = Tl::ms + Tl::ns;
  const auto issue = [&](int kt) { issue_slice<T, ATrans, BRow, Tl>(a, b, kt, stage + per * E * ((kt - kt0) & 1)); };
  const auto mma = [&](int kt) {
    const T* cur = stage + per * E * ((kt - kt0) & 1);
    if (active(kt)) BlockMma<T, ATrans, BRow, Tl>::run(acc, cur, cur + Tl::ms * E);
  };
  if constexpr (std::is_same<Tail, NoTail>::value) slice_pipeline(kt0, kt1, issue, mma);
  else slice_pipeline(kt0, kt1, issue, mma, [&] { tail(stage + per * E * ((kt1 - kt0) & 1)); });
}

// acc1 = A1 B1 over n1 slices, then acc2 = A2 B2 over n2 slices, through one double-buffered pipeline:
// the first slice of the second product is copied while the last one of the first multiplies (two
// gemm_tiles calls drain and refill the pipeline between them).
template <class T, bool ATrans, bool BRow, class Tl = Tile64>
__device__ __forceinline__ void gemm_tiles_pair(typename Tl::Acc& acc1, const TileSrc<T>& a1, const TileSrc<T>& b1,
                                                int n1, typename Tl::Acc& acc2, const TileSrc<T>& a2,
                                                const TileSrc<T>& b2, int n2, T* stage) {
  constexpr int E = TileLayout<T>::elems, per = (Tl::ms + Tl::ns) * E;
  slice_pipeline(
      0, n1 + n2,
      [&](int t) {
        if (t < n1) issue_slice<T, ATrans, BRow, Tl>(a1, b1, t, stage + per * (t & 1));
        else issue_slice<T, ATrans, BRow, Tl>(a2, b2, t - n1, stage + per * (t & 1));
      },
      [&](int t) {
        const T* cur = stage + per * (t & 1);
        if (t < n1) BlockMma<T, ATrans, BRow, Tl>::run(acc1, cur, cur + Tl::ms * E);
        else BlockMma<T, ATrans, BRow, Tl>::run(acc2, cur, cur + Tl::ms * E);
      });
}

}  // namespace xlstm::kernels
