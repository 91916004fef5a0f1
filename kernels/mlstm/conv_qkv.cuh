// The input path of the NeurIPS mLSTM layer in one pass over memory (xlstm-spec.md §2.1, §2.4):
//   c = silu(causal_depthwise_conv(x)),  q = W_q c,  k = W_k c,  v = W_v x
// with W_q, W_k, W_v block-diagonal in blocks of 4 (qkv_proj_blocksize) and a kernel of size 4. ATen
// runs this as a padding copy, a convolution on a transposed layout, a SiLU and three batched matmuls
// with a copy on each side (about twice that backward). Here a thread owns one block of 4 channels and
// walks a range of tokens of one sequence: its convolution weights and 4x4 matrices stay in registers,
// the last K-1 inputs slide along in registers, and c, q, k, v are written once. The backward walks the
// tokens in reverse, so that the convolution's transpose (which needs the d(conv) of the K-1 tokens
// after the current one) is a register window too; it recomputes the convolution from x, and sums the
// parameter gradients per thread, then writes one slice per CTA (the caller adds the slices in a fixed
// order: no atomics, bit-reproducible). All arithmetic in fp32; c is rounded to the input dtype before
// it feeds q and k (as the module path does), outputs in the input dtype.
// The kernel bodies use no CUDA feature beyond thread indices, warp shuffles and __syncthreads, so
// tests/sim_fused_kernels.cpp also runs them on the CPU (tests/kernel_simulation.h).
#pragma once

#include "common/device.cuh"
#include "mlstm/conv_qkv.h"

namespace xlstm::kernels {
namespace {

constexpr int kThreads = 128;
constexpr int K = kConvQkvKernel;

template <class T>
__device__ __forceinline__ float rounded(float x) {
  return to_float(from_float<T>(x));
}

// Channels 4j..4j+3 of token (b, s).
template <class T>
__device__ __forceinline__ void load4(const TokenTensor& t, int b, int s, int j, float (&v)[4]) {
  const T* p = static_cast<const T*>(t.ptr) + b * t.sb + s * t.ss + 4 * j;
#pragma unroll
  for (int i = 0; i < 4; ++i) v[i] = to_float(p[i]);
}

template <class T>
__device__ __forceinline__ void store4(void* base, const ConvQkvParams& p, int b, int s, int j, const float (&v)[4]) {
  T* out = static_cast<T*>(base) + (static_cast<int64_t>(b) * p.S + s) * p.D + 4 * j;
#pragma unroll
  for (int i = 0; i < 4; ++i) out[i] = from_float<T>(v[i]);
}

// y = W x (+ bias) for one 4x4 block; W row-major [o][i].
__device__ __forceinline__ void block_matvec(const float (&w)[16], const float (&bias)[4], const float (&x)[4],
                                             float (&y)[4]) {
#pragma unroll
  for (int o = 0; o < 4; ++o) {
    y[o] = bias[o];
#pragma unroll
    for (int i = 0; i < 4; ++i) y[o] += w[4 * o + i] * x[i];
  }
}

// The thread's parameters: convolution weights [i][k] and bias, the three 4x4 blocks and biases.
struct Weights {
  float cw[4 * K], cb[4], wq[16], wk[16], wv[16], bq[4], bk[4], bv[4];
};

__device__ __forceinline__ void load_weights(const ConvQkvParams& p, int j, Weights& w) {
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int d = 4 * j + i;
#pragma unroll
    for (int k = 0; k < K; ++k) w.cw[i * K + k] = p.conv_w[d * K + k];
    w.cb[i] = p.conv_b != nullptr ? p.conv_b[d] : 0.f;
    w.bq[i] = p.bq != nullptr ? p.bq[d] : 0.f;
    w.bk[i] = p.bk != nullptr ? p.bk[d] : 0.f;
    w.bv[i] = p.bv != nullptr ? p.bv[d] : 0.f;
  }
#pragma unroll
  for (int e = 0; e < 16; ++e) {
    w.wq[e] = p.wq[16 * j + e];
    w.wk[e] = p.wk[16 * j + e];
    w.wv[e] = p.wv[16 * j + e];
  }
}

// The CTA's sequence b, token range [s0, s1) and the thread's block j (false: no block for it).
__device__ __forceinline__ bool cta_range(const ConvQkvParams& p, int& b, int& s0, int& s1, int& j) {
  j = blockIdx.y * kThreads + threadIdx.x;
  const int chunks = (p.S + p.tokens_per_cta - 1) / p.tokens_per_cta;
  b = blockIdx.x / chunks;
  s0 = (blockIdx.x % chunks) * p.tokens_per_cta;
  s1 = min(p.S, s0 + p.tokens_per_cta);
  return j < p.D / 4;
}

// The convolution output at token s from the window xs[k] = x at s - K + 1 + k.
__device__ __forceinline__ void conv_at(const Weights& w, const float (&xs)[K][4], float (&conv)[4]) {
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    conv[i] = w.cb[i];
#pragma unroll
    for (int k = 0; k < K; ++k) conv[i] += w.cw[i * K + k] * xs[k][i];
  }
}

// x at token s into v (0 before the sequence).
template <class T>
__device__ __forceinline__ void load_x(const ConvQkvParams& p, int b, int s, int j, float (&v)[4]) {
  if (s >= 0) {
    load4<T>(p.x, b, s, j, v);
  } else {
#pragma unroll
    for (int i = 0; i < 4; ++i) v[i] = 0.f;
  }
}

// Each token's input is loaded one token ahead, before the current token's stores: the compiler may
// not move a load past a store to memory that could alias it, so loading after the stores would cost
// one memory latency per token.
template <class T>
__global__ void __launch_bounds__(kThreads) conv_qkv_fw_kernel(ConvQkvParams p) {
  int b, s0, s1, j;
  if (!cta_range(p, b, s0, s1, j)) return;
  Weights w;
  load_weights(p, j, w);
  float xs[K][4], ahead[4];  // x at s - K + 1 .. s; x at s + 1
#pragma unroll
  for (int k = 0; k < K - 1; ++k) load_x<T>(p, b, s0 - (K - 1) + k, j, xs[k]);
  load_x<T>(p, b, s0, j, ahead);
  for (int s = s0; s < s1; ++s) {
#pragma unroll
    for (int i = 0; i < 4; ++i) xs[K - 1][i] = ahead[i];
    if (s + 1 < s1) load_x<T>(p, b, s + 1, j, ahead);
    float conv[4], c[4], y[4];
    conv_at(w, xs, conv);
#pragma unroll
    for (int i = 0; i < 4; ++i) c[i] = rounded<T>(conv[i] * sigmoid(conv[i]));
    store4<T>(p.c, p, b, s, j, c);
    block_matvec(w.wq, w.bq, c, y);
    store4<T>(p.q, p, b, s, j, y);
    block_matvec(w.wk, w.bk, c, y);
    store4<T>(p.k, p, b, s, j, y);
    block_matvec(w.wv, w.bv, xs[K - 1], y);
    store4<T>(p.v, p, b, s, j, y);
#pragma unroll
    for (int k = 0; k < K - 1; ++k)
#pragma unroll
      for (int i = 0; i < 4; ++i) xs[k][i] = xs[k + 1][i];
  }
}

// The backward's inputs at token s: the gradients of c, q, k, v, and x at s - K + 1, the row that
// enters the convolution window when the reverse walk arrives at s.
struct TokenIn {
  float x_first[4], dc[4], dq[4], dk[4], dv[4];
};

template <class T>
__device__ __forceinline__ void load_token(const ConvQkvParams& p, int b, int s, int j, TokenIn& in) {
  load_x<T>(p, b, s - (K - 1), j, in.x_first);
  if (p.dc.ptr != nullptr) {
    load4<T>(p.dc, b, s, j, in.dc);
  } else {
#pragma unroll
    for (int i = 0; i < 4; ++i) in.dc[i] = 0.f;
  }
  load4<T>(p.dq, b, s, j, in.dq);
  load4<T>(p.dk, b, s, j, in.dk);
  load4<T>(p.dv, b, s, j, in.dv);
}

// c (rounded as the forward stores it) and d(conv) at a token from its window xs and its gradients.
__device__ __forceinline__ void token_grad(const Weights& w, const float (&xs)[K][4], const TokenIn& in, float (&c)[4],
                                           float (&dconv)[4]) {
  float conv[4];
  conv_at(w, xs, conv);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float sg = sigmoid(conv[i]);
    c[i] = conv[i] * sg;
    float dtot = in.dc[i];
#pragma unroll
    for (int o = 0; o < 4; ++o) dtot += w.wq[4 * o + i] * in.dq[o] + w.wk[4 * o + i] * in.dk[o];
    dconv[i] = dtot * sg * (1.f + conv[i] * (1.f - sg));
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads) conv_qkv_bw_kernel(ConvQkvParams p) {
  int b, s0, s1, j;
  if (!cta_range(p, b, s0, s1, j)) return;
  Weights w;
  load_weights(p, j, w);
  float g[kConvQkvGrads];  // dwq, dwk, dwv [o][i], dconv_w [i][k], dconv_b, dbq, dbk, dbv
#pragma unroll
  for (int e = 0; e < kConvQkvGrads; ++e) g[e] = 0.f;
  float next[K - 1][4];  // d(conv) at s + 1 .. s + K - 1 (0 beyond the sequence)
  float xs[K][4];        // x at s - K + 1 .. s
  float c[4], dconv[4];
  TokenIn cur{}, ahead{};
#pragma unroll
  for (int k = 0; k < K - 1; ++k) {
    const int s = s1 + k;
#pragma unroll
    for (int i = 0; i < 4; ++i) next[k][i] = 0.f;
    if (s < p.S) {
#pragma unroll
      for (int q = 0; q < K; ++q) load_x<T>(p, b, s - (K - 1) + q, j, xs[q]);
      load_token<T>(p, b, s, j, cur);
      token_grad(w, xs, cur, c, next[k]);
    }
  }
#pragma unroll
  for (int q = 0; q < K; ++q) load_x<T>(p, b, s1 - 1 - (K - 1) + q, j, xs[q]);
  load_token<T>(p, b, s1 - 1, j, cur);
  for (int s = s1 - 1; s >= s0; --s) {
    if (s - 1 >= s0) load_token<T>(p, b, s - 1, j, ahead);
    token_grad(w, xs, cur, c, dconv);
#pragma unroll
    for (int i = 0; i < 4; ++i) c[i] = rounded<T>(c[i]);
    float dx[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      dx[i] = w.cw[i * K + K - 1] * dconv[i];
#pragma unroll
      for (int k = 0; k < K - 1; ++k) dx[i] += w.cw[i * K + K - 2 - k] * next[k][i];
#pragma unroll
      for (int o = 0; o < 4; ++o) dx[i] += w.wv[4 * o + i] * cur.dv[o];
    }
    store4<T>(p.dx, p, b, s, j, dx);
#pragma unroll
    for (int o = 0; o < 4; ++o) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        g[4 * o + i] += cur.dq[o] * c[i];
        g[16 + 4 * o + i] += cur.dk[o] * c[i];
        g[32 + 4 * o + i] += cur.dv[o] * xs[K - 1][i];
      }
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
#pragma unroll
      for (int k = 0; k < K; ++k) g[48 + i * K + k] += dconv[i] * xs[k][i];
      g[48 + 4 * K + i] += dconv[i];
      g[52 + 4 * K + i] += cur.dq[i];
      g[56 + 4 * K + i] += cur.dk[i];
      g[60 + 4 * K + i] += cur.dv[i];
    }
    // Slide both windows one token back.
#pragma unroll
    for (int k = K - 2; k > 0; --k)
#pragma unroll
      for (int i = 0; i < 4; ++i) next[k][i] = next[k - 1][i];
#pragma unroll
    for (int i = 0; i < 4; ++i) next[0][i] = dconv[i];
#pragma unroll
    for (int k = K - 1; k > 0; --k)
#pragma unroll
      for (int i = 0; i < 4; ++i) xs[k][i] = xs[k - 1][i];
#pragma unroll
    for (int i = 0; i < 4; ++i) xs[0][i] = ahead.x_first[i];
    cur = ahead;
  }
  float* out = p.partial + (static_cast<int64_t>(blockIdx.x) * (p.D / 4) + j) * kConvQkvGrads;
#pragma unroll
  for (int e = 0; e < kConvQkvGrads; ++e) out[e] = g[e];
}

}  // namespace
}  // namespace xlstm::kernels
