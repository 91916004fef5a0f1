// The two small kernels of the chunkwise mLSTM that work on the fp32 gates alone.
//
// gate_prep (one warp per chunk and head): log forget gates lf = logsigmoid(f~), their cumulative sum
// b within the chunk, ib = i~ - b (the log weight of input j relative to the chunk start), its running
// maximum cm within the chunk, and per chunk the total decay g = b_{L-1} and amax = max_j (g + ib_j)
// (the largest log weight an input of the chunk has in the chunk-end state). Every other kernel derives
// its exponents from these stored values, so that exponents compare exactly where the math says
// "this is the maximum" (weights never exceed 1).
//
// gate_grad (one warp per head, walking the sequence backwards 32 positions at a time): the gate
// gradients from the per-position dot products the backward accumulated (FLA's reverse-cumsum trick):
//   d lf_t = sum_{s >= t} (q_s . dq_s - k_s . dk_s) + <dC_last, C_last> + <dn_last, n_last>,
//   d i~_t = k_t . dk_t,
// plus the gradient through the stabiliser m (h depends on it through eps, the last state through
// m_last): m_t = max(lf_t + m_{t-1}, i~_t) routes dm_t either to i~_t (input path) or to lf_t and on to
// m_{t-1}; a segmented reverse scan carries it, and what reaches t = 0 is part of dm0.
// df = d lf * sigmoid(-f~).
#include <cmath>

#include "mlstm/launch.h"
#include "mlstm/tile.cuh"

namespace xlstm::kernels {
namespace {

constexpr float kNegInf = -INFINITY;

__global__ void __launch_bounds__(32) gate_prep_kernel(ChunkwiseParams p) {
  const int kc = blockIdx.x % p.NC, bh = blockIdx.x / p.NC, lane = threadIdx.x;
  const int per = p.L / 32;
  const int64_t Sp = static_cast<int64_t>(p.NC) * p.L;
  const int64_t t0 = static_cast<int64_t>(kc) * p.L + lane * per;
  float b[kMaxChunk / 32], ig[kMaxChunk / 32];
  float run = 0.f;
#pragma unroll
  for (int e = 0; e < kMaxChunk / 32; ++e) {
    if (e >= per) break;
    const int64_t t = t0 + e;
    const bool valid = t < p.S;
    ig[e] = valid ? p.igate[bh * static_cast<int64_t>(p.S) + t] : kNegInf;
    run += valid ? logsigmoid(p.fgate[bh * static_cast<int64_t>(p.S) + t]) : 0.f;
    b[e] = run;
  }
  float incl = run;  // inclusive scan of the lanes' totals
  for (int o = 1; o < 32; o *= 2) {
    const float y = __shfl_up_sync(0xffffffffu, incl, o);
    if (lane >= o) incl += y;
  }
  const float offset = incl - run;
  float mx = kNegInf;
#pragma unroll
  for (int e = 0; e < kMaxChunk / 32; ++e) {
    if (e >= per) break;
    b[e] += offset;
    ig[e] -= b[e];  // now ib
    mx = fmaxf(mx, ig[e]);
  }
  float cmx = mx;  // inclusive max-scan of the lanes' maxima
  for (int o = 1; o < 32; o *= 2) {
    const float y = __shfl_up_sync(0xffffffffu, cmx, o);
    if (lane >= o) cmx = fmaxf(cmx, y);
  }
  float cm = __shfl_up_sync(0xffffffffu, cmx, 1);
  if (lane == 0) cm = kNegInf;
  const float g = __shfl_sync(0xffffffffu, run + offset, 31);
  float amax = kNegInf;
  float* gb = p.gate_b + bh * Sp;
  float* gib = p.gate_ib + bh * Sp;
  float* gcm = p.gate_cm + bh * Sp;
#pragma unroll
  for (int e = 0; e < kMaxChunk / 32; ++e) {
    if (e >= per) break;
    cm = fmaxf(cm, ig[e]);
    amax = fmaxf(amax, g + ig[e]);
    gb[t0 + e] = b[e];
    gib[t0 + e] = ig[e];
    gcm[t0 + e] = cm;
  }
  for (int o = 16; o > 0; o /= 2) amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, o));
  if (lane == 0) {
    p.chunk_g[bh * static_cast<int64_t>(p.NC) + kc] = g;
    p.chunk_amax[bh * static_cast<int64_t>(p.NC) + kc] = amax;
  }
}

__global__ void __launch_bounds__(32) gate_grad_kernel(ChunkwiseParams p) {
  const int bh = blockIdx.x, lane = threadIdx.x;
  const int64_t Sp = static_cast<int64_t>(p.NC) * p.L, S = p.S;
  const float tlast = p.tlast[bh];
  const float dm_last = p.dm_last ? p.dm_last[bh] : 0.f;
  const float* chunk_m = p.chunk_m + bh * static_cast<int64_t>(p.NC + 1);
  float carry_rd = 0.f, carry_e = 0.f;  // sum of rowdot above this block; e at the block above's lowest t
  for (int64_t top = S - 1; top >= 0; top -= 32) {
    const int64_t t = top - lane;  // lane 0 holds the highest position
    const bool valid = t >= 0;
    float x = 0.f, rd = 0.f, kd = 0.f, f = 0.f;
    bool input = false;
    if (valid) {
      const int64_t pos = bh * Sp + t, seq = bh * S + t;
      const float M = fmaxf(chunk_m[t / p.L], p.gate_cm[pos]);
      input = M == p.gate_ib[pos];
      x = p.dm_buf[pos] + (t == S - 1 ? dm_last - tlast : 0.f);
      rd = p.rowdot[pos];
      kd = p.kdk[pos];
      f = p.fgate[seq];
    }
    // reverse cumulative sum of rowdot
    float R = rd;
    // e_t = beta_t (x_t + e_{t+1}), beta_t = !input_t: a scan of (A, X) pairs in lane order
    float A = input ? 0.f : 1.f, X = input ? 0.f : x;
    for (int o = 1; o < 32; o *= 2) {
      const float Rp = __shfl_up_sync(0xffffffffu, R, o);
      const float Ap = __shfl_up_sync(0xffffffffu, A, o);
      const float Xp = __shfl_up_sync(0xffffffffu, X, o);
      if (lane >= o) {
        R += Rp;
        X += A * Xp;
        A *= Ap;
      }
    }
    R += carry_rd;
    const float e = X + A * carry_e;
    float e_next = __shfl_up_sync(0xffffffffu, e, 1);
    if (lane == 0) e_next = carry_e;
    if (valid) {
      const float c = x + e_next;  // dm_t: the stabiliser gradient arriving at position t
      const float dlf = R + tlast + (input ? 0.f : c);
      p.di[bh * S + t] = kd + (input ? c : 0.f);
      p.df[bh * S + t] = dlf / (1.f + expf(f));  // * sigmoid(-f)
    }
    carry_rd = __shfl_sync(0xffffffffu, R, 31);
    carry_e = __shfl_sync(0xffffffffu, e, 31);
  }
  if (p.dm0 && lane == 0) p.dm0[bh] = p.c0dot[bh] + carry_e;
}

}  // namespace

void launch_gate_prep(const ChunkwiseParams& p, cudaStream_t stream) {
  gate_prep_kernel<<<p.NC * p.B * p.NH, 32, 0, stream>>>(p);
}

void launch_gate_grad(const ChunkwiseParams& p, cudaStream_t stream) {
  gate_grad_kernel<<<p.B * p.NH, 32, 0, stream>>>(p);
}

}  // namespace xlstm::kernels
