// The input path of the NeurIPS mLSTM layer in one pass over memory (xlstm-spec.md §2.1, §2.4):
//   c = silu(causal_depthwise_conv(x)),  q = W_q c,  k = W_k c,  v = W_v x
// with W_q, W_k, W_v block-diagonal in blocks of 4 (qkv_proj_blocksize) and a kernel of size 4. ATen
// runs this as a padding copy, a convolution on a transposed layout, a SiLU and three batched matmuls
// with a copy on each side (about twice that backward). Here a thread owns one channel and walks a
// range of tokens of one sequence; the four lanes of a projection block (lanes 4j..4j+3 of a warp)
// exchange their c, x and gradients with three xor-shuffles, so a thread keeps only its own row and
// column of each 4x4 block, its convolution taps and its gradient sums in registers (sm_90a, bf16:
// forward 64, backward 128 registers; a thread per block of 4 channels needed 253 in the backward, two
// CTAs of 128 per multiprocessor).
// The last K-1 inputs slide along in registers. Each token's inputs are loaded kFwAhead tokens (a group of
// kBwGroup) ahead, before the current token's stores (the compiler may not move a load past a store to
// memory that could alias it): a walk that loaded each token when it needed it would wait one memory
// latency per token. The look-ahead registers hold the elements' bits (common/device.cuh: load_bits),
// converted to fp32 only when their token comes: a conversion in the iteration that issues the load
// waits for it there (session 9's version did, and took ~1.6x the time of the thread-per-block version
// before it).
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
constexpr int kFwAhead = 8;  // how many tokens ahead the forward loads x
constexpr int kBwGroup = 4;  // the backward loads its five inputs a group of this many tokens ahead

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
  w.active = w.d < p.D;
  return w;
}

// The thread's channel of one (B, S, D) tensor along its sequence: element s at ptr[s * stride]; null
// where the tensor is absent or the lane idle. T is const for the inputs.
template <class T>
struct Channel {
  T* ptr;
  int64_t stride;
};

template <class T>
__device__ __forceinline__ Channel<const T> input(const TokenTensor& t, const Walk& w) {
  const T* base = static_cast<const T*>(t.ptr);
  return {w.active && base != nullptr ? base + w.b * t.sb + w.d : nullptr, t.ss};
}

template <class T>
__device__ __forceinline__ Channel<T> output(void* base, const ConvQkvParams& p, const Walk& w) {
  T* out = static_cast<T*>(base);
  return {w.active ? out + static_cast<int64_t>(w.b) * p.S * p.D + w.d : nullptr, p.D};
}

// Token s of an input as bits (common/device.cuh: load_bits; 0 outside [0, end) and where absent).
template <class T>
__device__ __forceinline__ uint32_t raw(const Channel<const T>& c, int s, int end) {
  return c.ptr != nullptr && s >= 0 && s < end ? load_bits(c.ptr + s * c.stride) : 0u;
}

template <class T>
__device__ __forceinline__ void put(const Channel<T>& c, int s, float v) {
  if (c.ptr != nullptr) c.ptr[s * c.stride] = from_float<T>(v);
}

// A channel walked one token at a time from token s in direction dir (+1, -1): the loop's loads cost a
// predicate and a pointer increment each instead of an index product and three range checks.
template <class T>
struct Cursor {
  const T* at;
  int64_t step;
  bool live;  // the tensor is present and the lane active
};

template <class T>
__device__ __forceinline__ Cursor<T> cursor(const Channel<const T>& c, int s, int dir) {
  return {c.ptr + s * c.stride, dir * c.stride, c.ptr != nullptr};
}

// The bits of the cursor's token (0 where !valid or not live), then on to the next token.
template <class T>
__device__ __forceinline__ uint32_t take(Cursor<T>& c, bool valid) {
  const uint32_t v = c.live && valid ? load_bits(c.at) : 0u;
  c.at += c.step;
  return v;
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
  const Channel<const T> x = input<T>(p.x, w);
  const Channel<T> c_out = output<T>(p.c, p, w), q_out = output<T>(p.q, p, w), k_out = output<T>(p.k, p, w),
                   v_out = output<T>(p.v, p, w);
  float xs[K];  // x at s - K + 1 .. s
#pragma unroll
  for (int k = 0; k < K - 1; ++k) xs[k] = float_from_bits<T>(raw(x, w.s0 - (K - 1) + k, p.S));
  Cursor<T> next = cursor(x, w.s0, +1);
  uint32_t ahead[kFwAhead];  // x at s .. s + kFwAhead - 1, in slots by token % kFwAhead
#pragma unroll
  for (int t = 0; t < kFwAhead; ++t) ahead[t] = take(next, w.s0 + t < w.s1);
  for (int s0 = w.s0; s0 < w.s1; s0 += kFwAhead) {
#pragma unroll
    for (int t = 0; t < kFwAhead; ++t) {
      const int s = s0 + t;
      if (s >= w.s1) break;  // the same for the whole warp
      xs[K - 1] = float_from_bits<T>(ahead[t]);
      ahead[t] = take(next, s + kFwAhead < w.s1);
      const float conv = conv_at(wt, xs);
      const float c = rounded<T>(conv * sigmoid(conv));
      float cs[4], xv[4];
      block_values(c, cs);
      block_values(xs[K - 1], xv);
      put(c_out, s, c);
      put(q_out, s, wt.bq + dot4(wt.q, cs));
      put(k_out, s, wt.bk + dot4(wt.k, cs));
      put(v_out, s, wt.bv + dot4(wt.v, xv));
#pragma unroll
      for (int k = 0; k < K - 1; ++k) xs[k] = xs[k + 1];
    }
  }
}

// The backward's inputs at token s as bits: x at s - K (the row that enters the convolution window
// when the reverse walk moves on from s to s - 1) and the gradients of c, q, k, v at s.
struct TokenIn {
  uint32_t x_enter, dc, dq, dk, dv;
};

template <class T>
struct BwInputs {
  Channel<const T> x, dc, dq, dk, dv;
};

// The same five walked backwards from token s (x from s - K).
template <class T>
struct BwCursors {
  Cursor<T> x, dc, dq, dk, dv;
};

template <class T>
__device__ __forceinline__ BwCursors<T> bw_cursors(const BwInputs<T>& in, int s) {
  return {cursor(in.x, s - K, -1), cursor(in.dc, s, -1), cursor(in.dq, s, -1), cursor(in.dk, s, -1),
          cursor(in.dv, s, -1)};
}

// The inputs at the cursors' token s, then on to s - 1 (zeros where s < s0: the padding of the last
// group; x zero before the sequence).
template <class T>
__device__ __forceinline__ TokenIn take_token(BwCursors<T>& c, int s, int s0) {
  const bool valid = s >= s0;
  return {take(c.x, valid && s >= K), take(c.dc, valid), take(c.dq, valid), take(c.dk, valid), take(c.dv, valid)};
}

// One token's backward values: c (unrounded), d(conv), and the block's dq, dk, dv by lane (own ^ m).
struct TokenGrad {
  float c, dconv, dq[4], dk[4], dv[4];
};

template <class T>
__device__ __forceinline__ TokenGrad token_grad(const Weights& w, const float (&xs)[K], const TokenIn& in) {
  TokenGrad g;
  block_values(float_from_bits<T>(in.dq), g.dq);
  block_values(float_from_bits<T>(in.dk), g.dk);
  block_values(float_from_bits<T>(in.dv), g.dv);
  const float conv = conv_at(w, xs), sg = sigmoid(conv);
  g.c = conv * sg;
  const float dc = float_from_bits<T>(in.dc) + dot4(w.q, g.dq) + dot4(w.k, g.dk);
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
  const BwInputs<T> in{input<T>(p.x, w), input<T>(p.dc, w), input<T>(p.dq, w), input<T>(p.dk, w),
                       input<T>(p.dv, w)};
  const Channel<T> dx_out = output<T>(p.dx, p, w);
  GradSums gs{};
  float later[K - 1];  // d(conv) at s + 1 .. s + K - 1 (0 beyond the sequence)
  float xs[K];         // x at s - K + 1 .. s
#pragma unroll
  for (int k = 0; k < K - 1; ++k) {
    const int s = w.s1 + k;
#pragma unroll
    for (int q = 0; q < K; ++q) xs[q] = float_from_bits<T>(raw(in.x, s - (K - 1) + q, p.S));
    if (s < p.S) {
      BwCursors<T> at = bw_cursors(in, s);
      later[k] = token_grad<T>(wt, xs, take_token(at, s, w.s0)).dconv;
    } else {
      later[k] = 0.f;
    }
  }
#pragma unroll
  for (int q = 0; q < K; ++q) xs[q] = float_from_bits<T>(raw(in.x, w.s1 - K + q, p.S));
  BwCursors<T> next = bw_cursors(in, w.s1 - 1);
  TokenIn ahead[kBwGroup];  // the next group's inputs: tokens top .. top - kBwGroup + 1
#pragma unroll
  for (int t = 0; t < kBwGroup; ++t) ahead[t] = take_token(next, w.s1 - 1 - t, w.s0);
  for (int top = w.s1 - 1; top >= w.s0; top -= kBwGroup) {
    // This group's inputs (loaded a group ago), then the next group's loads before any of this group's
    // stores. (A ring of single slots, each reloaded as its token is used, made the compiler load into
    // a spare register and copy it into the slot at the end of the same token: a wait on every load.)
    TokenIn group[kBwGroup];
#pragma unroll
    for (int t = 0; t < kBwGroup; ++t) group[t] = ahead[t];
#pragma unroll
    for (int t = 0; t < kBwGroup; ++t) ahead[t] = take_token(next, top - kBwGroup - t, w.s0);
#pragma unroll
    for (int t = 0; t < kBwGroup; ++t) {
      const int s = top - t;
      if (s < w.s0) break;  // the same for the whole warp
      const TokenIn cur = group[t];
      const TokenGrad g = token_grad<T>(wt, xs, cur);
      const float c = rounded<T>(g.c);
      float dx = wt.cw[K - 1] * g.dconv + dot4(wt.v, g.dv);
#pragma unroll
      for (int k = 0; k < K - 1; ++k) dx += wt.cw[K - 2 - k] * later[k];
      put(dx_out, s, dx);
#pragma unroll
      for (int m = 0; m < 4; ++m) {
        gs.q[m] += g.dq[m] * c;
        gs.k[m] += g.dk[m] * c;
        gs.v[m] += g.dv[m] * xs[K - 1];
      }
#pragma unroll
      for (int k = 0; k < K; ++k) gs.cw[k] += g.dconv * xs[k];
      gs.cb += g.dconv;
      gs.bq += g.dq[0];
      gs.bk += g.dk[0];
      gs.bv += g.dv[0];
      // Slide both windows one token back.
#pragma unroll
      for (int k = K - 2; k > 0; --k) later[k] = later[k - 1];
      later[0] = g.dconv;
#pragma unroll
      for (int k = K - 1; k > 0; --k) xs[k] = xs[k - 1];
      xs[0] = float_from_bits<T>(cur.x_enter);
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
