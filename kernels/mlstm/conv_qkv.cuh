// The input path of the NeurIPS mLSTM layer in one pass over memory (xlstm-spec.md §2.1, §2.4):
//   c = silu(causal_depthwise_conv(x)),  q = W_q c,  k = W_k c,  v = W_v x
// with W_q, W_k, W_v block-diagonal in blocks of 4 (qkv_proj_blocksize) and a kernel of size 4. ATen
// runs this as a padding copy, a convolution on a transposed layout, a SiLU and three batched matmuls
// with a copy on each side (about twice that backward). Here a thread owns one channel and walks a
// range of tokens of one sequence; the four lanes of a projection block (lanes 4j..4j+3 of a warp)
// exchange their c, x and gradients with three xor-shuffles, so a thread keeps only its own row and
// column of each 4x4 block, its convolution taps and its gradient sums in registers (sm_90a: forward
// 56, backward 116 with its loads four tokens ahead; a thread per block of 4 channels needed 253 in the
// backward, two CTAs of 128 per multiprocessor).
// The last K-1 inputs slide along in registers. Each token's inputs are loaded kGroup tokens ahead,
// before the current token's stores (the compiler may not move a load past a store to memory that
// could alias it): a walk that loaded each token when it needed it would wait one memory latency per token.
// The backward walks the tokens in reverse, so that the convolution's transpose (which needs the
// d(conv) of the K-1 tokens after the current one) is a register window too; it recomputes the
// convolution from x, and sums the parameter gradients per thread, then writes one slice per CTA (the
// caller adds the slices in a fixed order: no atomics, bit-reproducible). All arithmetic in fp32; c is
// rounded to the input dtype before it feeds q and k (as the module path does), outputs in the input dtype.
// The kernel bodies use no CUDA feature beyond thread indices and warp shuffles, so
// tests/sim_fused_kernels.cpp also runs them on the CPU (tests/kernel_simulation.h).
#pragma once

#include "common/device.cuh"
#include "mlstm/conv_qkv.h"

namespace xlstm::kernels {
namespace {

constexpr int kThreads = kConvQkvThreads;
constexpr int K = kConvQkvKernel;
constexpr int kGroup = 4;  // how many tokens ahead a thread loads

template <class T>
__device__ __forceinline__ float rounded(float x) {
  return to_float(from_float<T>(x));
}

// The value of v held by the lane of channel (own ^ m) of the same block, m = 0..3.
__device__ __forceinline__ void block_values(float v, float (&out)[4]) {
  out[0] = v;
#pragma unroll
  for (int m = 1; m < 4; ++m) out[m] = __shfl_xor_sync(0xffffffffu, v, m);
}

// The thread's token range and channel; active: the channel exists (D % 4 == 0, so the four lanes of a
// block are all active or all idle; idle lanes walk along for the shuffles and touch no memory).
struct Walk {
  int b, s0, s1, d, i;  // i: the channel's place in its block
  int64_t row;          // b * S (the outputs' first row of the sequence)
  bool active;
};

__device__ __forceinline__ Walk walk_of(const ConvQkvParams& p) {
  Walk w;
  const int chunks = (p.S + p.tokens_per_cta - 1) / p.tokens_per_cta;
  w.b = blockIdx.x / chunks;
  w.s0 = (blockIdx.x % chunks) * p.tokens_per_cta;
  w.s1 = min(p.S, w.s0 + p.tokens_per_cta);
  w.d = blockIdx.y * kThreads + threadIdx.x;
  w.i = w.d % 4;
  w.row = static_cast<int64_t>(w.b) * p.S;
  w.active = w.d < p.D;
  return w;
}

// Channel d of token s of t (0 before or after the sequence and on idle lanes).
template <class T>
__device__ __forceinline__ float load(const TokenTensor& t, const ConvQkvParams& p, const Walk& w, int s) {
  if (!w.active || s < 0 || s >= p.S || t.ptr == nullptr) return 0.f;
  return to_float(static_cast<const T*>(t.ptr)[w.b * t.sb + s * t.ss + w.d]);
}

template <class T>
__device__ __forceinline__ void store(void* base, const ConvQkvParams& p, const Walk& w, int s, float v) {
  if (w.active) static_cast<T*>(base)[(w.row + s) * p.D + w.d] = from_float<T>(v);
}

// The thread's parameters: its convolution taps and bias; row[m] = W[own][own ^ m] (the forward's
// output o = own) and col[m] = W[own ^ m][own] (the backward's input i = own) of each 4x4 block.
struct Weights {
  float cw[K], cb, bq, bk, bv;
  float q[4], k[4], v[4];
};

__device__ __forceinline__ Weights load_weights(const ConvQkvParams& p, const Walk& w, bool columns) {
  Weights r{};
  if (!w.active) return r;
#pragma unroll
  for (int k = 0; k < K; ++k) r.cw[k] = p.conv_w[w.d * K + k];
  r.cb = p.conv_b != nullptr ? p.conv_b[w.d] : 0.f;
  r.bq = p.bq != nullptr ? p.bq[w.d] : 0.f;
  r.bk = p.bk != nullptr ? p.bk[w.d] : 0.f;
  r.bv = p.bv != nullptr ? p.bv[w.d] : 0.f;
  const int block = 16 * (w.d / 4);
#pragma unroll
  for (int m = 0; m < 4; ++m) {
    const int other = w.i ^ m;
    const int at = block + (columns ? 4 * other + w.i : 4 * w.i + other);
    r.q[m] = p.wq[at];
    r.k[m] = p.wk[at];
    r.v[m] = p.wv[at];
  }
  return r;
}

// The convolution output at token s from the window xs[k] = x at s - K + 1 + k.
__device__ __forceinline__ float conv_at(const Weights& w, const float (&xs)[K]) {
  float conv = w.cb;
#pragma unroll
  for (int k = 0; k < K; ++k) conv += w.cw[k] * xs[k];
  return conv;
}

__device__ __forceinline__ float dot4(const float (&a)[4], const float (&b)[4]) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
}

template <class T>
__global__ void __launch_bounds__(kThreads) conv_qkv_fw_kernel(ConvQkvParams p) {
  const Walk w = walk_of(p);
  const Weights wt = load_weights(p, w, /*columns=*/false);
  float xs[K];  // x at s - K + 1 .. s
#pragma unroll
  for (int k = 0; k < K - 1; ++k) xs[k] = load<T>(p.x, p, w, w.s0 - (K - 1) + k);
  float ahead[kGroup];  // x at s .. s + kGroup - 1, in slots by token % kGroup
#pragma unroll
  for (int t = 0; t < kGroup; ++t) ahead[t] = w.s0 + t < w.s1 ? load<T>(p.x, p, w, w.s0 + t) : 0.f;
  for (int s0 = w.s0; s0 < w.s1; s0 += kGroup) {
#pragma unroll
    for (int t = 0; t < kGroup; ++t) {
      const int s = s0 + t;
      if (s >= w.s1) break;  // the same for the whole warp
      xs[K - 1] = ahead[t];
      ahead[t] = s + kGroup < w.s1 ? load<T>(p.x, p, w, s + kGroup) : 0.f;
      const float conv = conv_at(wt, xs);
      const float c = rounded<T>(conv * sigmoid(conv));
      float cs[4], xv[4];
      block_values(c, cs);
      block_values(xs[K - 1], xv);
      store<T>(p.c, p, w, s, c);
      store<T>(p.q, p, w, s, wt.bq + dot4(wt.q, cs));
      store<T>(p.k, p, w, s, wt.bk + dot4(wt.k, cs));
      store<T>(p.v, p, w, s, wt.bv + dot4(wt.v, xv));
#pragma unroll
      for (int k = 0; k < K - 1; ++k) xs[k] = xs[k + 1];
    }
  }
}

// The backward's inputs at token s: x at s - K (the row that enters the convolution window when the
// reverse walk moves on from s to s - 1) and the gradients of c, q, k, v at s.
struct TokenIn {
  float x_enter, dc, dq, dk, dv;
};

// (zeros where !valid: the padding of the last group)
template <class T>
__device__ __forceinline__ TokenIn load_token(const ConvQkvParams& p, const Walk& w, int s, bool valid = true) {
  if (!valid) return {};
  return {load<T>(p.x, p, w, s - K), load<T>(p.dc, p, w, s), load<T>(p.dq, p, w, s),
          load<T>(p.dk, p, w, s), load<T>(p.dv, p, w, s)};
}

// One token's backward values: c (unrounded), d(conv), and the block's dq, dk, dv by lane (own ^ m).
struct TokenGrad {
  float c, dconv, dq[4], dk[4], dv[4];
};

__device__ __forceinline__ TokenGrad token_grad(const Weights& w, const float (&xs)[K], const TokenIn& in) {
  TokenGrad g;
  block_values(in.dq, g.dq);
  block_values(in.dk, g.dk);
  block_values(in.dv, g.dv);
  const float conv = conv_at(w, xs), sg = sigmoid(conv);
  g.c = conv * sg;
  const float dc = in.dc + dot4(w.q, g.dq) + dot4(w.k, g.dk);
  g.dconv = dc * sg * (1.f + conv * (1.f - sg));
  return g;
}

// The parameter-gradient sums of one channel, in the order of the partial slices (conv_qkv.h).
struct GradSums {
  float q[4], k[4], v[4], cw[K], cb, bq, bk, bv;
};

template <class T>
__global__ void __launch_bounds__(kThreads) conv_qkv_bw_kernel(ConvQkvParams p) {
  const Walk w = walk_of(p);
  const Weights wt = load_weights(p, w, /*columns=*/true);
  GradSums gs{};
  float later[K - 1];  // d(conv) at s + 1 .. s + K - 1 (0 beyond the sequence)
  float xs[K];         // x at s - K + 1 .. s
#pragma unroll
  for (int k = 0; k < K - 1; ++k) {
    const int s = w.s1 + k;
    later[k] = 0.f;
    if (s < p.S) {
#pragma unroll
      for (int q = 0; q < K; ++q) xs[q] = load<T>(p.x, p, w, s - (K - 1) + q);
      later[k] = token_grad(wt, xs, load_token<T>(p, w, s)).dconv;
    }
  }
#pragma unroll
  for (int q = 0; q < K; ++q) xs[q] = load<T>(p.x, p, w, w.s1 - K + q);
  TokenIn ahead[kGroup];  // the inputs at s .. s - kGroup + 1, in slots by (s1 - 1 - s) % kGroup
#pragma unroll
  for (int t = 0; t < kGroup; ++t) ahead[t] = load_token<T>(p, w, w.s1 - 1 - t, w.s1 - 1 - t >= w.s0);
  for (int top = w.s1 - 1; top >= w.s0; top -= kGroup) {
#pragma unroll
    for (int t = 0; t < kGroup; ++t) {
      const int s = top - t;
      if (s < w.s0) break;  // the same for the whole warp
      const TokenIn in = ahead[t];
      ahead[t] = load_token<T>(p, w, s - kGroup, s - kGroup >= w.s0);
      const TokenGrad g = token_grad(wt, xs, in);
      const float c = rounded<T>(g.c);
      float dx = wt.cw[K - 1] * g.dconv + dot4(wt.v, g.dv);
#pragma unroll
      for (int k = 0; k < K - 1; ++k) dx += wt.cw[K - 2 - k] * later[k];
      store<T>(p.dx, p, w, s, dx);
#pragma unroll
      for (int m = 0; m < 4; ++m) {
        gs.q[m] += g.dq[m] * c;
        gs.k[m] += g.dk[m] * c;
        gs.v[m] += g.dv[m] * xs[K - 1];
      }
#pragma unroll
      for (int k = 0; k < K; ++k) gs.cw[k] += g.dconv * xs[k];
      gs.cb += g.dconv;
      gs.bq += in.dq;
      gs.bk += in.dk;
      gs.bv += in.dv;
      // Slide both windows one token back.
#pragma unroll
      for (int k = K - 2; k > 0; --k) later[k] = later[k - 1];
      later[0] = g.dconv;
#pragma unroll
      for (int k = K - 1; k > 0; --k) xs[k] = xs[k - 1];
      xs[0] = in.x_enter;
    }
  }
  if (!w.active) return;
  float* out = p.partial + (static_cast<int64_t>(blockIdx.x) * p.D + w.d) * kConvQkvGrads;
#pragma unroll
  for (int m = 0; m < 4; ++m) {  // by the block's output o = own ^ m
    out[w.i ^ m] = gs.q[m];
    out[4 + (w.i ^ m)] = gs.k[m];
    out[8 + (w.i ^ m)] = gs.v[m];
  }
#pragma unroll
  for (int k = 0; k < K; ++k) out[12 + k] = gs.cw[k];
  out[12 + K] = gs.cb;
  out[13 + K] = gs.bq;
  out[14 + K] = gs.bk;
  out[15 + K] = gs.bv;
}

}  // namespace
}  // namespace xlstm::kernels
