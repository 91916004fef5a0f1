// The two small kernels of the chunkwise mLSTM that work on the fp32 gates alone.
//
// gate_prep (one warp per chunk and head): log forget gates lf = logsigmoid(f~), their cumulative sum
// b within the chunk, ib = i~ - b (the log weight of input j relative to the chunk start), its running
// maximum cm within the chunk, and per chunk the total decay g = b_{L-1} and amax = max_j (g + ib_j)
// (the largest log weight an input of the chunk has in the chunk-end state). Every other kernel derives
// its exponents from these stored values, so that exponents compare exactly where the math says
// "this is the maximum" (weights never exceed 1).
//
// gate_grad (one block per head, walking the chunks backwards in batches, one warp per chunk, 32
// positions at a time): the gate
// gradients from the fp64 sums the backward accumulated. With b_t the cumulative log forget gate,
// d lf_r = sum over the (output i, input j) pairs with j < r <= i of their share, arranged so that no
// large terms cancel. For r in chunk k:
//   A_r + B_r  reverse cumulative sum inside the chunk, from its end down to r, of
//              [sum_{j<t} G_tj - sum_{i>t} G_it] (intra-chunk pairs, exact in fp64) + q_t . dq_t(inter)
//   F_r        sum_{j<r in the chunk} k_j . dk_j(state)   (pairs reaching past the chunk end)
//   D_k        exp(g_k + m_{k-1} - m_k) (<dC_k, C_{k-1}> + <dn_k, n_{k-1}>)  (pairs across the chunk)
// and d i~_t = k_t . dk_t. Then the gradient through the stabiliser m (h depends on it through eps, the
// last state through m_last = m_S, which brings -X_last = -(<dC_last, C_last> + <dn_last, n_last>)):
// m_t = max(lf_t + m_{t-1}, i~_t) routes dm_t either to i~_t (input path) or to lf_t and on to m_{t-1};
// a segmented reverse scan carries it, and what reaches t = 0 is part of dm0. On the stabiliser chain
// that starts at S, -X_last cancels the part X_last - RS_r of F_r + D_k (RS_r = sum_{j>=r} k_j . dk_j
// (state), X_k = D_k + sum over the chunk), so there the gradient is formed as X_k - X_last - RS_r
// (exactly -RS_r in the last chunk). df = d lf * sigmoid(-f~).
#include <cmath>

#include "mlstm/launch.h"
#include "mlstm/tile.cuh"

namespace xlstm::kernels {
namespace {

__global__ void __launch_bounds__(32) gate_prep_kernel(ChunkwiseParams p) {
  const int kc = blockIdx.x % p.NC, bh = blockIdx.x / p.NC, lane = threadIdx.x;
  const int per = p.L / 32;
  const int64_t Sp = static_cast<int64_t>(p.NC) * p.L;
  const int64_t t0 = static_cast<int64_t>(kc) * p.L + lane * per;
  // In fp64: |b| reaches ~100 within a chunk when forget gates are small, and fp32 rounding of b would
  // set the accuracy of every gate weight exp(ib_j - M_i).
  double b[kMaxChunk / 32], ig[kMaxChunk / 32];
  double run = 0.0;
#pragma unroll
  for (int e = 0; e < kMaxChunk / 32; ++e) {
    if (e >= per) break;
    const int64_t t = t0 + e;
    const bool valid = t < p.S;
    ig[e] = valid ? static_cast<double>(p.igate[bh * static_cast<int64_t>(p.S) + t]) : -INFINITY;
    run += valid ? static_cast<double>(logsigmoid(p.fgate[bh * static_cast<int64_t>(p.S) + t])) : 0.0;
    b[e] = run;
  }
  double incl = run;  // inclusive scan of the lanes' totals
  for (int o = 1; o < 32; o *= 2) {
    const double y = __shfl_up_sync(0xffffffffu, incl, o);
    if (lane >= o) incl += y;
  }
  const double offset = incl - run;
  double mx = -INFINITY;
#pragma unroll
  for (int e = 0; e < kMaxChunk / 32; ++e) {
    if (e >= per) break;
    b[e] += offset;
    ig[e] -= b[e];  // now ib
    mx = fmax(mx, ig[e]);
  }
  double cmx = mx;  // inclusive max-scan of the lanes' maxima
  for (int o = 1; o < 32; o *= 2) {
    const double y = __shfl_up_sync(0xffffffffu, cmx, o);
    if (lane >= o) cmx = fmax(cmx, y);
  }
  double cm = __shfl_up_sync(0xffffffffu, cmx, 1);
  if (lane == 0) cm = -INFINITY;
  const double g = __shfl_sync(0xffffffffu, run + offset, 31);
  double amax = -INFINITY;
  double* gb = p.gate_b + bh * Sp;
  double* gib = p.gate_ib + bh * Sp;
  double* gcm = p.gate_cm + bh * Sp;
#pragma unroll
  for (int e = 0; e < kMaxChunk / 32; ++e) {
    if (e >= per) break;
    cm = fmax(cm, ig[e]);
    amax = fmax(amax, g + ig[e]);
    gb[t0 + e] = b[e];
    gib[t0 + e] = ig[e];
    gcm[t0 + e] = cm;
  }
  for (int o = 16; o > 0; o /= 2) amax = fmax(amax, __shfl_xor_sync(0xffffffffu, amax, o));
  if (lane == 0) {
    p.chunk_g[bh * static_cast<int64_t>(p.NC) + kc] = g;
    p.chunk_amax[bh * static_cast<int64_t>(p.NC) + kc] = amax;
  }
}

// gate_grad's blocks: one per head, each warp one chunk of a batch of kGradWarps chunks (the walk
// carries only the stabiliser-gradient scan across chunks; one warp walking every chunk waited on ~8
// dependent loads per chunk).
constexpr int kGradWarps = 16;

// The carries of the reverse stabiliser-gradient scan across a position t: e (the gradient reaching t
// from above) and alive (no input-path position above t on the chain from S).
struct ScanCarry {
  double e = 0.0;
  bool alive = true;
};

// One warp's pass down chunk kc (positions c0 + len - 1 ... c0, 32 at a time) from the carry entering it
// at its top. With `write` it stores di and df of its positions; without it computes only the carry
// leaving the chunk at its bottom. fwd holds F_r of the chunk, x_k = X_k, x_last = X_last.
__device__ ScanCarry gate_grad_chunk(const ChunkwiseParams& p, int bh, int kc, const double* fwd, double x_k,
                                     double x_last, ScanCarry carry, bool write) {
  const int lane = threadIdx.x % 32;
  const int64_t Sp = static_cast<int64_t>(p.NC) * p.L, S = p.S, base = bh * Sp;
  const int64_t c0 = static_cast<int64_t>(kc) * p.L;
  const int len = static_cast<int>(S - c0 < p.L ? S - c0 : p.L);
  const double dchunk = p.dchunk[static_cast<int64_t>(bh) * p.NC + kc];
  const double chunk_m = p.chunk_m[bh * static_cast<int64_t>(p.NC + 1) + kc];
  const double dm_last = p.dm_last ? p.dm_last[bh] : 0.0;
  double carry_r = 0.0, carry_rs = 0.0;  // reverse sums of rowdot and k.dk(state) above, in this chunk
  for (int top = len - 1; top >= 0; top -= 32) {
    const int r = top - lane;  // lane 0 holds the highest position
    const bool valid = r >= 0;
    const int64_t t = c0 + r, pos = base + t;
    double x = 0.0, rd = 0.0, ks = 0.0, kd = 0.0;
    float f = 0.f;
    bool input = false;
    if (valid) {
      input = fmax(chunk_m, p.gate_cm[pos]) == p.gate_ib[pos];
      x = p.dm_buf[pos] + (t == S - 1 ? dm_last : 0.0);
      if (write) {
        rd = p.rowdot[pos];
        ks = p.kst[pos];
        kd = p.kdk[pos];
        f = p.fgate[bh * S + t];
      }
    }
    const unsigned inputs = __ballot_sync(0xffffffffu, input);
    const bool alive_above = carry.alive && (inputs & ((1u << lane) - 1u)) == 0;  // chain from S reaches t+1
    const bool alive = alive_above && !input;
    // inclusive scans in lane order: plain sums, and e_t = beta_t (x_t + e_{t+1}), beta_t = !input_t
    double R = rd, RS = ks, A = input ? 0.0 : 1.0, X = input ? 0.0 : x;
    for (int o = 1; o < 32; o *= 2) {
      const double Rp = __shfl_up_sync(0xffffffffu, R, o), RSp = __shfl_up_sync(0xffffffffu, RS, o);
      const double Ap = __shfl_up_sync(0xffffffffu, A, o), Xp = __shfl_up_sync(0xffffffffu, X, o);
      if (lane >= o) {
        R += Rp;
        RS += RSp;
        X += A * Xp;
        A *= Ap;
      }
    }
    R += carry_r;
    RS += carry_rs;
    const double e = X + A * carry.e;
    double e_next = __shfl_up_sync(0xffffffffu, e, 1);
    if (lane == 0) e_next = carry.e;
    if (write && valid) {
      const double c = x + e_next;  // dm_t (without -X_last): the stabiliser gradient arriving at t
      const double state = alive ? (x_k - x_last) - RS : fwd[r] + dchunk;
      const double dlf = R + state + (input ? 0.0 : c);
      const double dig = input ? c - (alive_above ? x_last : 0.0) : 0.0;
      p.di[bh * S + t] = static_cast<float>(kd + dig);
      p.df[bh * S + t] = static_cast<float>(dlf / (1.0 + exp(static_cast<double>(f))));  // * sigmoid(-f)
    }
    carry_r = __shfl_sync(0xffffffffu, R, 31);
    carry_rs = __shfl_sync(0xffffffffu, RS, 31);
    carry.e = __shfl_sync(0xffffffffu, e, 31);
    carry.alive = carry.alive && inputs == 0;
  }
  return carry;
}

// F_r (exclusive prefix sums of k.dk(state) over chunk kc) into fwd; returns the chunk's total.
__device__ double chunk_prefix(const ChunkwiseParams& p, int bh, int kc, double* fwd) {
  const int lane = threadIdx.x % 32;
  const int64_t c0 = static_cast<int64_t>(kc) * p.L, base = bh * static_cast<int64_t>(p.NC) * p.L;
  const int len = static_cast<int>(p.S - c0 < p.L ? p.S - c0 : p.L);
  double run = 0.0;
  for (int b0 = 0; b0 < len; b0 += 32) {
    const double own = b0 + lane < len ? p.kst[base + c0 + b0 + lane] : 0.0;
    double v = own;
    for (int o = 1; o < 32; o *= 2) {
      const double y = __shfl_up_sync(0xffffffffu, v, o);
      if (lane >= o) v += y;
    }
    const double incl = run + v;
    if (b0 + lane < len) fwd[b0 + lane] = incl - own;
    run = __shfl_sync(0xffffffffu, incl, 31);
  }
  __syncwarp();
  return run;
}

// Batches of kGradWarps chunks from the top: each warp computes its chunk's F_r, X_k and the carry its
// chunk passes down from an entering carry of (0, alive) (the scan is affine in e with slope 0 or 1); one
// thread chains the batch's carries; then each warp walks its chunk again from its true carry.
__global__ void __launch_bounds__(32 * kGradWarps) gate_grad_kernel(ChunkwiseParams p) {
  __shared__ double fwd[kGradWarps][kMaxChunk];  // F_r of each warp's chunk
  __shared__ ScanCarry local[kGradWarps], entering[kGradWarps + 1];
  __shared__ double x_last;
  const int bh = blockIdx.x, warp = threadIdx.x / 32;
  if (threadIdx.x == 0) entering[kGradWarps] = ScanCarry{};
  for (int top = p.NC - 1; top >= 0; top -= kGradWarps) {
    const int kc = top - warp;
    double x_k = 0.0;
    if (kc >= 0) {
      x_k = p.dchunk[static_cast<int64_t>(bh) * p.NC + kc] + chunk_prefix(p, bh, kc, fwd[warp]);
      if (kc == p.NC - 1 && threadIdx.x % 32 == 0) x_last = x_k;
      const ScanCarry c = gate_grad_chunk(p, bh, kc, fwd[warp], x_k, 0.0, ScanCarry{}, false);
      if (threadIdx.x % 32 == 0) local[warp] = c;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      ScanCarry c = entering[kGradWarps];  // what left the previous batch
      for (int w = 0; w < kGradWarps && top - w >= 0; ++w) {
        entering[w] = c;
        c.e = local[w].e + (local[w].alive ? c.e : 0.0);
        c.alive = c.alive && local[w].alive;
      }
      entering[kGradWarps] = c;
    }
    __syncthreads();
    if (kc >= 0) gate_grad_chunk(p, bh, kc, fwd[warp], x_k, x_last, entering[warp], true);
    __syncthreads();  // fwd and entering are reused by the next batch
  }
  if (p.dm0 && threadIdx.x == 0) {
    const ScanCarry c = entering[kGradWarps];
    p.dm0[bh] = static_cast<float>(p.c0dot[bh] + c.e - (c.alive ? x_last : 0.0));
  }
}

}  // namespace

void launch_gate_prep(const ChunkwiseParams& p, cudaStream_t stream) {
  gate_prep_kernel<<<p.NC * p.B * p.NH, 32, 0, stream>>>(p);
}

void launch_gate_grad(const ChunkwiseParams& p, cudaStream_t stream) {
  gate_grad_kernel<<<p.B * p.NH, 32 * kGradWarps, 0, stream>>>(p);
}

}  // namespace xlstm::kernels
