// The sequential part of the chunkwise mLSTM: one walk over the chunks per (dq tile, dv tile, head),
// keeping a 64x64 or 64x128 fp32 tile of the state in registers (grid: DQK/64 * DHV/cols * B*NH blocks
// of 4 or 8 warps, see StateTile below).
//
// Forward (kernels.md §1.2): before chunk k the block stores the state entering it, C_{k-1} (in the
// input dtype, for the output kernel) and n_{k-1} (fp32), then
//   m_k = max(g_k + m_{k-1}, amax_k),  C_k = exp(g_k + m_{k-1} - m_k) C_{k-1} + K_k^T diag(w) V_k,
//   w_j = exp(g_k + ib_j - m_k) <= 1,  n_k likewise with the row sums of diag(w) K_k.
// It ends with the last state (C_last, n_last, m_last).
//
// Backward: the same walk in reverse over the gradient of the state (kernels.md §1.3 step 2):
// before chunk k it stores dC_k (the gradient of the state leaving chunk k), then
//   dC_{k-1} = exp(g_k + m_{k-1} - m_k) dC_k + Q_k^T diag(u s / den) dH_k,
//   dn_{k-1} = same decay * dn_k + Q_k^T (u s a),
// with u_i = exp(m_{k-1} - M_i) the inter-chunk weight of row i, s = 1/sqrt(DQK), den the denominator
// and a the gradient of q~.n (scores kernel). At each chunk it also adds, in fp64,
// D_k = exp(g_k + m_{k-1} - m_k) (<dC_k, C_{k-1}> + <dn_k, n_{k-1}>) (the forget-gate gradient of the
// chunk's positions from the pairs of outputs after the chunk and inputs before it, see gates.cu), and
// it ends with dC0, dn0 and <dC0, C0> + <dn0, n0> (part of dm0).
// Only the blocks of dv tile 0 carry n / dn.
//
// Both directions are one flat loop over (chunk, 64-row slice) with the next slice's K/V (Q/dH) tiles
// loading while the current one is multiplied; the row weights are applied to the X operand's fragments
// in registers (BlockMma's kscale). A step has one barrier: the next slice's copies are issued after it,
// into the buffer the step before read, and what a chunk start writes for the others to read after the
// barrier (row weights, the forward's staged state, the partial sums of n, the backward's C_{k-1})
// has two copies by chunk parity. The backward's dC states go to global memory straight from the
// registers, and D_k is summed from them there (one fp64 atomic per warp).
#pragma once

#include <cmath>
#include <type_traits>

#include "mlstm/launch.h"
#include "mlstm/tile.cuh"

namespace xlstm::kernels {

// The state tile's warps for 16-bit inputs: warps of 16 rows x 64 columns (not Tile64's 2x2 of 32x32),
// so that each row weight of the K^T (Q^T) operand is applied in registers by one warp per 64 columns.
// Where DHV allows, a block owns 64x128 of the state on 8 warps (StateTileWide): the K (Q) tile of a
// step then serves 128 state columns, and the walk reads a fifth less from L2 (7.4 instead of 9.2 GB
// in the 7B forward). Its time barely moved (-1% fw+bw), as it did not with 128x128 tiles on 16 warps
// (5.6 GB, +8%) or a third cp.async stage (kernels/NOTES.md, v1.8; v1.10 has the walk's profile).
// (fp32 keeps Tile64: its FMA product would spill with 64-column warps.)
template <class T>
using StateTile = std::conditional_t<std::is_same<T, float>::value, Tile64, Tiling<4, 1, 1, 8>>;
using StateTileWide = Tiling<4, 2, 1, 8>;

// Per stage the X tile and Tl::ns Y sub-tiles (two stages); by chunk parity a state tile (the forward's
// staging tile of the state store, the backward's C_{k-1}), the row weights and the partial sums of n;
// the reduction slots.
template <class T, class Tl>
constexpr size_t recurrent_smem_bytes() {
  return (2 * (1 + Tl::ns) + 2 * Tl::ns) * TileLayout<T>::elems * sizeof(T) +
         2 * (2 * kMaxChunk + Tl::threads) * sizeof(float) + Tl::threads / 32 * sizeof(double);
}

// Blocks per SM: as many as 512 threads and the shared memory allow (sm_90: 228 KB per SM, 1 KB of it
// reserved per block). The register budget follows from it: the fp32 walks fit 2 blocks, so they may
// take 255 registers instead of spilling at 128.
template <class T, class Tl>
constexpr int recurrent_blocks_per_sm() {
  constexpr int by_smem = static_cast<int>((228 << 10) / (recurrent_smem_bytes<T, Tl>() + 1024));
  return by_smem < 512 / Tl::threads ? by_smem : 512 / Tl::threads;
}

template <class T, class Tl, bool backward>
__global__ void __launch_bounds__(Tl::threads, (recurrent_blocks_per_sm<T, Tl>()))
    recurrent_kernel(ChunkwiseParams p) {
  static_assert(Tl::rows == kTile, "a block walks 64 rows of the state (one X tile per step)");
  using Lt = TileLayout<T>;
  constexpr int E = Lt::elems, R = kTile, NS = Tl::ns, Threads = Tl::threads;
  constexpr int kStage = (1 + NS) * E;  // the X tile, then the Y sub-tiles
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* stage = reinterpret_cast<T*>(smem_raw);
  // By chunk parity: forward, the chunk state on its way to global memory; backward, C_{k-1} of chunk k.
  T* state_tiles = stage + 2 * kStage;
  double* red = reinterpret_cast<double*>(state_tiles + 2 * NS * E);
  float* scales = reinterpret_cast<float*>(red + Threads / 32);  // [parity][row weight, n weight][kMaxChunk]
  float* nparts = scales + 4 * kMaxChunk;                          // [parity][part][column]

  const int tid = threadIdx.x;
  const int tv_count = p.DHV / Tl::cols, tq_count = p.DQK / R;
  int x = blockIdx.x;
  const int tv = x % tv_count;
  x /= tv_count;
  const int tq = x % tq_count;
  const int bh = x / tq_count;
  const bool lead_n = tv == 0, lead_m = lead_n && tq == 0;
  const int LT = p.L / kTile, NC = p.NC;
  const int64_t Sp = static_cast<int64_t>(NC) * p.L;

  const SeqTensor& xs = backward ? p.q : p.k;
  const SeqTensor& ys = backward ? p.dh : p.v;
  const T* X = head_ptr<T>(xs.ptr, xs.sb, xs.sh, bh, p.NH) + tq * R;
  const T* Y = head_ptr<T>(ys.ptr, ys.sb, ys.sh, bh, p.NH) + tv * Tl::cols;
  const int64_t state_size = static_cast<int64_t>(p.DQK) * p.DHV;
  T* states = static_cast<T*>(backward ? p.dstates : p.states) + bh * NC * state_size +
              static_cast<int64_t>(tq) * R * p.DHV + tv * Tl::cols;
  float* nstates = (backward ? p.dn_states : p.n_states) + static_cast<int64_t>(bh) * NC * p.DQK + tq * R;
  const double* chunk_g = p.chunk_g + static_cast<int64_t>(bh) * NC;
  const double* chunk_amax = p.chunk_amax + static_cast<int64_t>(bh) * NC;
  double* chunk_m = p.chunk_m + static_cast<int64_t>(bh) * (NC + 1);
  const double* gib = p.gate_ib + bh * Sp;
  const double* gcm = p.gate_cm + bh * Sp;

  // Initial state (fp32 tiles of (B, NH, DQK, DHV) tensors).
  const int64_t cbase = bh * state_size + static_cast<int64_t>(tq) * R * p.DHV + tv * Tl::cols;
  typename Tl::Acc acc;
  zero_acc<Tl>(acc);
  const float* init = backward ? p.dc_last : p.c0;
  if (init) acc_foreach<Tl>(acc, [&](int r, int c, float& v) { v = init[cbase + static_cast<int64_t>(r) * p.DHV + c]; });
  const float* ninit = backward ? p.dn_last : p.n0;
  const int64_t nbase = static_cast<int64_t>(bh) * p.DQK + tq * R;
  // n (dn) of column tid: the owner thread (tid < 64) keeps the carry, n_{k-1} times the chunk's decay,
  // and every thread of a lead_n block the partial sum of its rows of the chunk, which a chunk start
  // hands to the owner through nparts.
  float n_carry = tid < R && ninit ? ninit[nbase + tid] : 0.f, n_part = 0.f;
  constexpr int parts = Threads / R, part_rows = kTile / parts;
  const auto add_parts = [&](float sum, const float* npart) {  // the owner's: its column's partial sums
#pragma unroll
    for (int part = 0; part < parts; ++part) sum += npart[part * R + tid];
    return sum;
  };
  double m_run = (!backward && p.m0) ? static_cast<double>(p.m0[bh]) : -INFINITY;  // exponents in fp64

  // The walk visits (chunk kc, 64-row slice sub) in order; the next chunk is kc + dir. (Counters, not
  // divisions of a step index by LT: those were ~20 instructions each, several per step.)
  const int dir = backward ? -1 : 1, first_chunk = backward ? NC - 1 : 0;
  auto issue = [&](int kc, int sub, int parity) {
    const int t0 = kc * p.L + sub * kTile;
    T* buf = stage + kStage * parity;
    load_tile_async<T, Threads>(buf, X + t0 * xs.ss, xs.ss, p.S - t0);
#pragma unroll
    for (int j = 0; j < NS; ++j) load_tile_async<T, Threads>(buf + (1 + j) * E, Y + t0 * ys.ss + j * kTile, ys.ss, p.S - t0);
    if (backward && sub == 0) {  // C_{k-1}, stored by the forward
      const T* cprev = static_cast<const T*>(p.states) + (static_cast<int64_t>(bh) * NC + kc) * state_size +
                       static_cast<int64_t>(tq) * R * p.DHV + tv * Tl::cols;
#pragma unroll
      for (int j = 0; j < NS; ++j)
        load_tile_async<T, Threads>(state_tiles + (NS * (kc & 1) + j) * E, cprev + j * kTile, p.DHV, kTile);
    }
    cp_async_commit();
  };
  // The per-position inputs of a chunk's row weights (this thread's rows r = tid, tid + Threads, ...), read
  // from global memory one chunk ahead so that their latency is not at the chunk start: the running
  // max of the input-gate log weights and the denominator and a of each row (backward), or the log
  // weight ib (forward). Rows past S keep the values that make their weights 0.
  constexpr int kRowsPerThread = (kMaxChunk + Threads - 1) / Threads;
  double row_g[kRowsPerThread];
  float row_den[kRowsPerThread], row_a[kRowsPerThread];
  const auto load_rows = [&](int kc) {
#pragma unroll
    for (int j = 0; j < kRowsPerThread; ++j) {
      const int64_t t = static_cast<int64_t>(kc) * p.L + tid + j * Threads;
      const bool valid = tid + j * Threads < p.L && t < p.S;
      row_g[j] = valid ? (backward ? gcm[t] : gib[t]) : 0.0;
      row_den[j] = valid && backward ? fabsf(p.n_out[static_cast<int64_t>(bh) * p.S + t]) + p.eps : 1.f;
      row_a[j] = valid && backward ? p.a_buf[bh * Sp + t] : 0.f;
    }
  };
  issue(first_chunk, 0, 0);
  load_rows(first_chunk);
  float decay = 1.f;  // of the current chunk
  for (int kc = first_chunk, sub = 0, parity = 0; kc >= 0 && kc < NC; parity ^= 1) {
    const int next_kc = sub + 1 == LT ? kc + dir : kc, next_sub = sub + 1 == LT ? 0 : sub + 1;
    const bool last_chunk = kc + dir < 0 || kc + dir >= NC;
    float* scale = scales + 2 * kMaxChunk * (kc & 1);
    float* nscale = scale + kMaxChunk;
    float* npart = nparts + Threads * (kc & 1);
    T* state_tile = state_tiles + NS * E * (kc & 1);
    if (sub == 0) {  // the chunk start, before the barrier: what the others read after it
      const double g = chunk_g[kc];
      double m_prev, m_k;
      if (backward) {
        m_prev = chunk_m[kc];
        m_k = chunk_m[kc + 1];
      } else {
        m_prev = m_run;
        m_k = fmax(g + m_run, chunk_amax[kc]);
        if (lead_m && tid == 0) chunk_m[kc] = m_run;
        m_run = m_k;
      }
      decay = expf(static_cast<float>(g + m_prev - m_k));
#pragma unroll
      for (int j = 0; j < kRowsPerThread; ++j) {
        const int r = tid + j * Threads;
        if (r >= p.L) continue;
        float s = 0.f, ns = 0.f;
        if (static_cast<int64_t>(kc) * p.L + r < p.S) {
          if (backward) {
            const float u = expf(static_cast<float>(m_prev - fmax(m_prev, row_g[j]))) * p.scale;
            s = u / row_den[j];
            ns = u * row_a[j];
          } else {
            s = ns = expf(static_cast<float>(g + row_g[j] - m_k));
          }
        }
        scale[r] = s;
        nscale[r] = ns;
      }
      if (!last_chunk) load_rows(kc + dir);  // the next chunk's, used LT sub-steps from now
      // The backward stores dC_k straight from the registers (the walk 2.46 -> 2.08 ms at the 7B layout
      // without the round trip through shared memory); in the forward those 4-byte stores cost more
      // than the round trip saves (1.50 -> 1.66 ms, at L = 64 fw +22%), so it stages the state for 16-byte
      // stores after the barrier.
      if constexpr (backward) store_acc_pairs<Tl>(acc, states + kc * state_size, p.DHV);
      else stage_acc<Tl>(acc, state_tile, [](int, int, float v) { return v; });
      acc_foreach<Tl>(acc, [&](int, int, float& v) { v *= decay; });
      if (lead_n) {
        npart[tid] = n_part;  // (part, column) = (tid / 64, tid % 64)
        n_part = 0.f;
      }
    }
    cp_async_wait<0>();  // this step's tiles, the only copies in flight
    __syncthreads();
    // The next slice into the buffer the step before read (every thread is past it now).
    if (!(last_chunk && sub + 1 == LT)) issue(next_kc, next_sub, parity ^ 1);
    if (sub == 0) {
      if constexpr (!backward) copy_staged<Tl>(state_tile, states + kc * state_size, p.DHV, R);
      float n_prev = 0.f;  // n_{k-1} (forward), dn_k (backward)
      if (lead_n && tid < R) {
        n_prev = add_parts(n_carry, npart);
        nstates[static_cast<int64_t>(kc) * p.DQK + tid] = n_prev;
        n_carry = decay * n_prev;
      }
      if constexpr (backward) {  // D_k from the registers, which hold decay * dC_k now
        float d = acc_dot_tile<Tl>(acc, state_tile);
        if (lead_n && tid < R) d += decay * n_prev * p.n_states[(static_cast<int64_t>(bh) * NC + kc) * p.DQK + tq * R + tid];
        const double sum = warp_sum(static_cast<double>(d));
        if (tid % 32 == 0) atomicAdd(p.dchunk + static_cast<int64_t>(bh) * NC + kc, sum);
      }
    }
    T* Xs = stage + kStage * parity;
    if (lead_n) {  // n from the unweighted rows, each part of the block summing 64 / parts of them
      const int c = tid % R, part = tid / R;
      const float* nsc = nscale + sub * kTile + part_rows * part;
      const T* xc = Xs + c;
#pragma unroll 8
      for (int r = 0; r < part_rows; ++r) n_part += nsc[r] * to_float(xc[(part_rows * part + r) * Lt::ld]);
    }
    BlockMma<T, true, true, Tl>::run(acc, Xs, Xs + E, scale + sub * kTile);
    kc = next_kc;
    sub = next_sub;
  }
  // The last chunk's partial sums of n, through the buffer of the chunk parity that comes next.
  float* npart_end = nparts + Threads * ((first_chunk + dir * NC) & 1);
  if (lead_n) npart_end[tid] = n_part;
  __syncthreads();
  if (lead_n && tid < R) n_carry = add_parts(n_carry, npart_end);

  float* final_c = backward ? p.dc0 : p.c_last;
  float* final_n = backward ? p.dn0 : p.n_last;
  if (final_c) acc_foreach<Tl>(acc, [&](int r, int c, float& v) { final_c[cbase + static_cast<int64_t>(r) * p.DHV + c] = v; });
  if (final_n && lead_n && tid < R) final_n[nbase + tid] = n_carry;
  if (!backward && lead_m && tid == 0) {
    chunk_m[NC] = m_run;
    if (p.m_last) p.m_last[bh] = static_cast<float>(m_run);
  }
  // <dC0, C0> + <dn0, n0> (a part of dm0)
  if (backward && p.c0) {
    double d = 0.0;
    acc_foreach<Tl>(acc, [&](int r, int c, float& v) {
      d += static_cast<double>(v) * p.c0[cbase + static_cast<int64_t>(r) * p.DHV + c];
    });
    if (lead_n && tid < R) d += static_cast<double>(n_carry) * p.n0[nbase + tid];
    d = block_sum(d, red);
    if (tid == 0) atomicAdd(p.c0dot + bh, d);
  }
}

template <class T, class Tl, bool backward>
void launch_recurrent_tiled(const ChunkwiseParams& p, cudaStream_t stream) {
  constexpr size_t smem = recurrent_smem_bytes<T, Tl>();
  cudaFuncSetAttribute(recurrent_kernel<T, Tl, backward>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
  const int blocks = (p.DQK / kTile) * (p.DHV / Tl::cols) * p.B * p.NH;
  recurrent_kernel<T, Tl, backward><<<blocks, Tl::threads, smem, stream>>>(p);
}

template <class T, class Tl>
void launch_recurrent_tiled(const ChunkwiseParams& p, bool backward, cudaStream_t stream) {
  if (backward) launch_recurrent_tiled<T, Tl, true>(p, stream);
  else launch_recurrent_tiled<T, Tl, false>(p, stream);
}

template <class T>
void launch_recurrent(const ChunkwiseParams& p, bool backward, cudaStream_t stream) {
  if constexpr (!std::is_same<T, float>::value) {
    if (p.DHV % StateTileWide::cols == 0) return launch_recurrent_tiled<T, StateTileWide>(p, backward, stream);
  }
  launch_recurrent_tiled<T, StateTile<T>>(p, backward, stream);
}

}  // namespace xlstm::kernels
