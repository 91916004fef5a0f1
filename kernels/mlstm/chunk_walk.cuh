// What the two wgmma walks (fused_forward.cuh forward, dstate_walk.cuh in reverse) share: the per-chunk
// inputs a thread reads one chunk ahead, and the order in which a walk issues its steps' copies.
#pragma once

#include <cstdint>

#include "mlstm/launch.h"
#include "mlstm/tile.cuh"

namespace xlstm::kernels {

// A head's per-chunk inputs: chunk kc's scalars g_k, m_{k-1}, m_k and the inputs of its row `row` (rows
// >= L read nothing): the log input weight ib, the running maximum cm of the log weights, n_out (rows past
// S: ib = 0, n_out = 0).
struct ChunkInputs {
  struct Values {
    double g, m_prev, m_k, ib, cm;
    float nout;
  };
  const double *g, *m, *ib, *cm;
  const float* nout;
  int L, S;

  __device__ __forceinline__ ChunkInputs(const ChunkwiseParams& p, int bh) {
    const int64_t Sp = static_cast<int64_t>(p.NC) * p.L;
    g = p.chunk_g + static_cast<int64_t>(bh) * p.NC;
    m = p.chunk_m + static_cast<int64_t>(bh) * (p.NC + 1);
    ib = p.gate_ib + bh * Sp;
    cm = p.gate_cm + bh * Sp;
    nout = p.n_out + static_cast<int64_t>(bh) * p.S;
    L = p.L;
    S = p.S;
  }

  __device__ __forceinline__ Values read(int kc, int row) const {
    const int64_t t = static_cast<int64_t>(kc) * L + row;
    const bool in_chunk = row < L, valid = in_chunk && t < S;
    Values a;
    a.g = g[kc];
    a.m_prev = m[kc];
    a.m_k = m[kc + 1];
    a.ib = valid ? ib[t] : 0.0;
    a.cm = in_chunk ? cm[t] : 0.0;
    a.nout = valid ? nout[t] : 0.f;
    return a;
  }
};

// Issues the copies of a walk's steps in order, one cp.async group per step: step n is step st of chunk kc
// (per_chunk steps a chunk, chunks from `first` by Dir), into ring stage n % Stages; past the last step an
// empty group keeps the wait counts uniform. issue(kc, st, stage) issues the copies without committing.
template <int Stages, int Dir, class Issue>
struct StepCopies {
  Issue& issue;
  int total, per_chunk;
  int kc, st = 0;

  __device__ __forceinline__ StepCopies(Issue& f, int total_steps, int steps_per_chunk, int first)
      : issue(f), total(total_steps), per_chunk(steps_per_chunk), kc(first) {}

  __device__ __forceinline__ void next(int n) {
    if (n < total) {
      issue(kc, st, n % Stages);
      if (++st == per_chunk) {
        st = 0;
        kc += Dir;
      }
    }
    cp_async_commit();
  }
};

}  // namespace xlstm::kernels
