// The per-step recurrent product of the fused sLSTM kernels and the thread/warp roles around it.
//
// Shape: one thread-block cluster per (head, 16·MT-row batch tile); its `cluster` CTAs split the head's
// DH hidden units, U = DH / cluster each, and every warp group owns 8 units with ALL FOUR gates, so the
// pointwise update needs nothing from other units. The group's slice of R stays in registers for the
// whole sequence as mma.sync B fragments (bf16; fp32 keeps it in shared memory and uses FMA so that
// fp32 results stay fp32-exact). `ksplit` warps share a group, each reducing over a slice of K, which
// shortens the dependent MMA chain; after the reduction each of them finishes one half of the rows.
//   forward   A = y_{t-1} (batch x DH), B = R columns (DH x 4 gates x 8 units): acc[mt][gate][.]
//   backward  A = dg_{t+1} (batch x 4·DH), B = R^T rows (4·DH x 8 units); 4 interleaved accumulator
//             chains acc[mt][chain][.] summed at the end
// Accumulator element (mt, n, 2·half + e) is batch row 16·mt + lane/4 + 8·half, unit 2·(lane%4) + e of
// the group: the forward's gate n and the backward's chain n land on the same units, so a thread owns
// the same (row, unit) pairs in both directions.
#pragma once

#include <cuda_bf16.h>

#include <type_traits>

#include "common/device.cuh"
#include "slstm/cluster.cuh"
#include "slstm/params.h"

namespace xlstm::kernels {

constexpr int kSlstmMaxThreads = 256;

// Pairs of consecutive units: 32-bit (bf16) or 64-bit (fp32) loads and stores.
template <class T>
using RawPair = std::conditional_t<std::is_same_v<T, float>, float2, uint32_t>;

__device__ __forceinline__ float2 unpack(float2 v) { return v; }
__device__ __forceinline__ float2 unpack(uint32_t v) {
  return __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&v));
}
template <class T>
__device__ __forceinline__ RawPair<T> pack(float a, float b) {
  if constexpr (std::is_same_v<T, float>) {
    return make_float2(a, b);
  } else {
    const __nv_bfloat162 v = __floats2bfloat162_rn(a, b);
    return *reinterpret_cast<const uint32_t*>(&v);
  }
}
template <class T>
__device__ __forceinline__ RawPair<T> load_pair(const T* p) {
  return *reinterpret_cast<const RawPair<T>*>(p);
}
template <class T>
__device__ __forceinline__ void store_pair(T* p, RawPair<T> v) {
  *reinterpret_cast<RawPair<T>*>(p) = v;
}
__device__ __forceinline__ void store_f2(float* p, float a, float b) { *reinterpret_cast<float2*>(p) = make_float2(a, b); }

// A unit pair's [y, c, n, m] (or their gradients) in a (4, B, H) fp32 state tensor, `at` the pair's
// offset in the y block (BH = B·H): loaded (zeros without a tensor) and stored.
__device__ __forceinline__ void load_states(const float* s, int64_t at, int64_t BH, float (&y)[2], float (&c)[2],
                                            float (&n)[2], float (&m)[2]) {
  for (int e = 0; e < 2; ++e) {
    y[e] = s ? s[at + e] : 0.f;
    c[e] = s ? s[BH + at + e] : 0.f;
    n[e] = s ? s[2 * BH + at + e] : 0.f;
    m[e] = s ? s[3 * BH + at + e] : 0.f;
  }
}
__device__ __forceinline__ void store_states(float* s, int64_t at, int64_t BH, const float (&y)[2], const float (&c)[2],
                                             const float (&n)[2], const float (&m)[2]) {
  store_f2(s + at, y[0], y[1]);
  store_f2(s + BH + at, c[0], c[1]);
  store_f2(s + 2 * BH + at, n[0], n[1]);
  store_f2(s + 3 * BH + at, m[0], m[1]);
}

// Row stride of the shared vector buffers: `width` elements (DH forward, 4·DH backward) plus padding
// (16 bytes for conflict-free ldmatrix; 2 floats for the FMA path's row reads).
template <class T>
__host__ __device__ constexpr int slstm_ld(int width) {
  return width + (std::is_same_v<T, float> ? 2 : 8);
}

// Prefetch depths (steps ahead) of the forward's and the backward's inputs; fp32 has less room.
template <class T, bool BW>
constexpr int kSlstmRingDepth = std::is_same_v<T, float> ? (BW ? 1 : 4) : (BW ? 4 : 8);

// Shared memory, in this order: two vector buffers, the input ring(s), the ksplit reduction buffer,
// (fp32) the R slice, and the two mbarriers of StepSync. Every part is a multiple of 16 bytes.
struct SlstmSmem {
  size_t vec = 0, ring = 0, red = 0, rs = 0;
  static constexpr size_t kBars = 16;
  __host__ __device__ size_t bars_offset() const { return 2 * vec + ring + red + rs; }
  __host__ __device__ size_t total() const { return bars_offset() + kBars; }
};

// Elements per thread and step of the backward's float2 ring: 4 gates and the previous c, n, m.
constexpr int kBwPerRow = 7;

template <class T, int MT, bool BW>
__host__ __device__ inline SlstmSmem slstm_smem(const SlstmParams& p) {
  const auto up16 = [](size_t b) { return (b + 15) / 16 * 16; };
  const int U = p.DH / p.cluster, threads = (U / 8) * p.ksplit * 32;
  constexpr int depth = kSlstmRingDepth<T, BW>;
  SlstmSmem s;
  s.vec = up16(static_cast<size_t>(16 * MT) * slstm_ld<T>(BW ? 4 * p.DH : p.DH) * sizeof(T));
  s.ring = BW ? up16(StepRing<RawPair<T>, 2 * MT, depth>::bytes(threads)) +
                    up16(StepRing<float2, 2 * MT * kBwPerRow, depth>::bytes(threads))
              : up16(StepRing<RawPair<T>, 8 * MT, depth>::bytes(threads));
  s.red = up16(static_cast<size_t>(threads) * MT * (BW ? 1 : 4) * 4 * sizeof(float));
  s.rs = std::is_same_v<T, float> ? up16(static_cast<size_t>(p.DH) * 4 * U * sizeof(float)) : 0;
  return s;
}

template <class T, int KST, int KSPLIT, int MT, bool BW>
struct SlstmWarp {
  static constexpr bool kFma = std::is_same_v<T, float>;

  const SlstmParams& p;
  int lane, group, ks, rank, head, row0, u0;  // u0: the group's first unit within the head
  int U, width, ld;
  int a_off;  // bf16 path: this lane's ldmatrix element offset in a vector buffer, at its first k-step
  uint32_t rb[kFma ? 1 : 4 * KST][2];  // register-resident R fragments (bf16 path)
  float acc[MT][4][4];

  __device__ explicit SlstmWarp(const SlstmParams& params) : p(params) {
    const int warp = threadIdx.x / 32;
    lane = threadIdx.x % 32;
    group = warp / KSPLIT;
    ks = warp % KSPLIT;
    rank = blockIdx.x % p.cluster;
    const int tile = blockIdx.x / p.cluster;
    head = tile % p.NH;
    row0 = (tile / p.NH) * 16 * MT;
    U = p.DH / p.cluster;
    u0 = rank * U + 8 * group;
    width = BW ? 4 * p.DH : p.DH;
    ld = slstm_ld<T>(width);
    a_off = (lane % 16) * ld + ks * (BW ? 4 * KST : KST) * 16 + 8 * (lane / 16);
  }

  // Row (within the tile) and unit (within the head) of accumulator element (mt, 2·half + e).
  __device__ int row(int mt, int half) const { return 16 * mt + lane / 4 + 8 * half; }
  __device__ int unit() const { return u0 + 2 * (lane % 4); }
  __device__ int64_t batch(int mt, int half) const { return row0 + row(mt, half); }
  // Whether this thread finishes (pointwise, stores) the rows of `half` in m-tile mt.
  __device__ bool owns(int mt, int half) const { return half % KSPLIT == ks && batch(mt, half) < p.B; }

  // R into registers (bf16) or this CTA's slice of it into shared memory `rs` (fp32):
  //   forward  rs[(k·4 + g)·U + ul] = R[k][g·DH + rank·U + ul],  backward rs[k·U + ul] = R[rank·U + ul][k].
  __device__ void load_R(float* rs) {
    const T* R = static_cast<const T*>(p.R) + static_cast<int64_t>(head) * p.DH * 4 * p.DH;
    const int64_t ldr = 4 * p.DH;
    if constexpr (kFma) {
      const int n = p.DH * 4 * U;
      for (int idx = threadIdx.x; idx < n; idx += blockDim.x) {
        if constexpr (BW) {
          const int k = idx / U, ul = idx % U;
          rs[idx] = R[(rank * U + ul) * ldr + k];
        } else {
          const int ul = idx % U, g = (idx / U) % 4, k = idx / (4 * U);
          rs[idx] = R[k * ldr + g * p.DH + rank * U + ul];
        }
      }
    } else {
      const int q = 2 * (lane % 4), n = lane / 4;
      for (int f = 0; f < 4 * KST; ++f) {
        if constexpr (BW) {
          const T* r = R + (u0 + n) * ldr + (ks * 4 * KST + f) * 16 + q;
          rb[f][0] = load_pair(r);
          rb[f][1] = load_pair(r + 8);
        } else {
          const int g = f / KST, k0 = (ks * KST + f % KST) * 16 + q;
          const T* r = R + k0 * ldr + g * p.DH + u0 + n;
          rb[f][0] = pack<T>(to_float(r[0]), to_float(r[ldr]));
          rb[f][1] = pack<T>(to_float(r[8 * ldr]), to_float(r[9 * ldr]));
        }
      }
    }
  }

  // acc = this warp's share of vec · (R slice) for the vector buffer `vec` (16·MT rows of ld).
  __device__ void product(const T* vec, const float* rs) {
    for (int mt = 0; mt < MT; ++mt)
      for (int n = 0; n < 4; ++n)
        for (int e = 0; e < 4; ++e) acc[mt][n][e] = 0.f;
    if constexpr (kFma) {
      const int kw = width / KSPLIT, col = 8 * group + 2 * (lane % 4);
      for (int k = ks * kw; k < (ks + 1) * kw; ++k) {
        float a[MT][2];
        for (int mt = 0; mt < MT; ++mt)
          for (int half = 0; half < 2; ++half) a[mt][half] = vec[row(mt, half) * ld + k];
        for (int n = 0; n < (BW ? 1 : 4); ++n) {
          const float2 r = *reinterpret_cast<const float2*>(rs + (BW ? k * U : (k * 4 + n) * U) + col);
          for (int mt = 0; mt < MT; ++mt)
            for (int half = 0; half < 2; ++half) {
              acc[mt][n][2 * half] += a[mt][half] * r.x;
              acc[mt][n][2 * half + 1] += a[mt][half] * r.y;
            }
        }
      }
    } else {
      // Two accumulator chains per gate in the forward (even and odd k-steps), four interleaved ones in
      // the backward: the dependent MMA chain is half (a quarter) as long.
      float odd[MT][4][4];
      if constexpr (!BW)
        for (int mt = 0; mt < MT; ++mt)
          for (int n = 0; n < 4; ++n)
            for (int e = 0; e < 4; ++e) odd[mt][n][e] = 0.f;
      constexpr int steps = BW ? 4 * KST : KST;
      const T* a_base = vec + a_off;
#pragma unroll
      for (int kk = 0; kk < steps; ++kk) {
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          uint32_t a[4];
          ldsm_x4(a, a_base + 16 * mt * ld + kk * 16);
          if constexpr (BW) {
            mma_16816<T>(acc[mt][kk % 4], a, rb[kk][0], rb[kk][1]);
          } else {
#pragma unroll
            for (int g = 0; g < 4; ++g)
              mma_16816<T>(kk % 2 ? odd[mt][g] : acc[mt][g], a, rb[g * KST + kk][0], rb[g * KST + kk][1]);
          }
        }
      }
      for (int mt = 0; mt < MT; ++mt)
        for (int e = 0; e < 4; ++e) {
          if constexpr (BW) {
            acc[mt][0][e] += acc[mt][1][e] + acc[mt][2][e] + acc[mt][3][e];
          } else {
            for (int g = 0; g < 4; ++g) acc[mt][g][e] += odd[mt][g][e];
          }
        }
    }
  }

  // Adds the other ksplit warps' partial products into the halves this warp owns (through `red`): each
  // warp writes the halves the others own, and the warps of a group meet at their own named barrier
  // (id 1 + group; 0 is __syncthreads'). The buffer's reuse in the next step is ordered by the step's
  // hand-over (StepSync), which every warp reaches after these reads.
  __device__ void reduce(float* red) {
    if constexpr (KSPLIT == 1) return;
    constexpr int n_out = BW ? 1 : 4, per_lane = MT * n_out * 4;
    const int groups = U / 8;
    const auto slot = [&](int k) { return red + ((k * groups + group) * 32 + lane) * per_lane; };
    float* mine = slot(ks);
    for (int mt = 0; mt < MT; ++mt)
      for (int n = 0; n < n_out; ++n)
        for (int e = 0; e < 4; ++e)
          if ((e / 2) % KSPLIT != ks) mine[(mt * n_out + n) * 4 + e] = acc[mt][n][e];
    asm volatile("bar.sync %0, %1;\n" ::"r"(1 + group), "r"(KSPLIT * 32) : "memory");
#pragma unroll
    for (int k = 0; k < KSPLIT; ++k) {
      if (k == ks) continue;
      const float* other = slot(k);
      for (int mt = 0; mt < MT; ++mt)
        for (int n = 0; n < n_out; ++n)
          for (int e = 0; e < 4; ++e)
            if ((e / 2) % KSPLIT == ks) acc[mt][n][e] += other[(mt * n_out + n) * 4 + e];
    }
  }

  // The StepSync of this CTA: its mbarriers at `bars`, and the bytes the other CTAs of the cluster
  // send it per iteration (their units of every valid row of the tile; n_stores pairs per unit pair).
  __device__ StepSync step_sync(const void* bars, int n_stores) const {
    const int rows = min(16 * MT, p.B - row0);
    return {p.cluster, smem_addr(bars), static_cast<uint32_t>(rows * (p.cluster - 1) * U * n_stores * sizeof(T))};
  }

  // Writes the pairs v[i] at local + i·stride, a place in vector buffer b of this CTA, and at the same
  // place in every other CTA of the cluster (store_async, counted on that CTA's mbarrier of buffer b),
  // each CTA starting with the rank after its own so that the stores spread over the targets.
  template <int N>
  __device__ void broadcast(T* local, int stride, const RawPair<T> (&v)[N], const StepSync& sync, int b) const {
#pragma unroll
    for (int i = 0; i < N; ++i) store_pair(local + i * stride, v[i]);
    const uint32_t addr = smem_addr(local), step = static_cast<uint32_t>(stride * sizeof(T));
    int r = rank;
    for (int q = 1; q < p.cluster; ++q) {
      r = r + 1 == p.cluster ? 0 : r + 1;
      const uint32_t target = cluster_addr(addr, r), bar = sync.remote_bar(b, r);
#pragma unroll
      for (int i = 0; i < N; ++i) store_async(target + i * step, v[i], bar);
    }
  }
};

}  // namespace xlstm::kernels
