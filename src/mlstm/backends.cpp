// ATen implementations of the mLSTM cell (see include/xlstm/mlstm/backends.h for the math).
// The parallel form is the chunkwise form with a single chunk covering the sequence, so both share
// `chunk_forward`; the recurrent form is a loop over `mlstm_step`.
#include "xlstm/mlstm/backends.h"

#include <cmath>
#include <limits>

namespace xlstm {
namespace {

namespace F = torch::nn::functional;

torch::ScalarType compute_dtype(const torch::Tensor& q) {
  return q.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

// The state to start from, in the compute dtype: the given one, or "no history" (m = -inf).
mLSTMState initial_state(const mLSTMState& state, int64_t B, int64_t NH, int64_t DK, int64_t DV,
                         const torch::TensorOptions& opts) {
  if (state.defined()) return {state.C.to(opts.dtype()), state.n.to(opts.dtype()), state.m.to(opts.dtype())};
  return {torch::zeros({B, NH, DK, DV}, opts), torch::zeros({B, NH, DK}, opts),
          torch::full({B, NH, 1}, -std::numeric_limits<double>::infinity(), opts)};
}

// Processes NC chunks of length L at once. q, k (B,NH,NC,L,DK), v (B,NH,NC,L,DV), gates (B,NH,NC,L),
// all in the compute dtype. Returns h (B,NH,NC,L,DV) and the state after the last chunk; `stats`, when
// given, receives the signed normaliser and the stabiliser (B,NH,NC,L).
std::tuple<torch::Tensor, mLSTMState> chunk_forward(const torch::Tensor& q, const torch::Tensor& k,
                                                    const torch::Tensor& v, const torch::Tensor& igate,
                                                    const torch::Tensor& fgate, const mLSTMState& state,
                                                    double eps, mLSTMForwardStats* stats) {
  const int64_t NC = q.size(2), L = q.size(3), DK = q.size(4);
  const double scale = 1.0 / std::sqrt(static_cast<double>(DK));

  auto lf = F::logsigmoid(fgate);
  auto b = lf.cumsum(-1);                                   // decay from the chunk start up to t
  auto g = b.select(-1, L - 1);                             // total decay of each chunk (B,NH,NC)
  auto a = g.unsqueeze(-1) - b + igate;                     // weight of input t in the chunk-end state
  auto a_max = std::get<0>(a.max(-1));                      // (B,NH,NC)
  auto w = torch::exp(a - a_max.unsqueeze(-1));             // (B,NH,NC,L)
  auto dC = torch::matmul((k * w.unsqueeze(-1)).transpose(-2, -1), v);  // (B,NH,NC,DK,DV)
  auto dn = (k * w.unsqueeze(-1)).sum(-2);                               // (B,NH,NC,DK)

  // Recurrence over chunks: the states entering each chunk, and the final one.
  std::vector<torch::Tensor> C_in, n_in, m_in;
  auto C = state.C, n = state.n, m = state.m.squeeze(-1);  // m (B,NH)
  for (int64_t c = 0; c < NC; ++c) {
    C_in.push_back(C);
    n_in.push_back(n);
    m_in.push_back(m);
    auto gc = g.select(-1, c), ac = a_max.select(-1, c);
    auto m_new = torch::maximum(gc + m, ac);
    auto decay = torch::exp(gc + m - m_new), input = torch::exp(ac - m_new);
    C = decay.unsqueeze(-1).unsqueeze(-1) * C + input.unsqueeze(-1).unsqueeze(-1) * dC.select(2, c);
    n = decay.unsqueeze(-1) * n + input.unsqueeze(-1) * dn.select(2, c);
    m = m_new;
  }
  auto C_enter = torch::stack(C_in, 2);  // (B,NH,NC,DK,DV)
  auto n_enter = torch::stack(n_in, 2);  // (B,NH,NC,DK)
  auto m_enter = torch::stack(m_in, 2);  // (B,NH,NC)

  // Intra-chunk (causal, attention-like) and inter-chunk (from the entering state) contributions.
  auto causal = torch::ones({L, L}, torch::TensorOptions().dtype(torch::kBool).device(q.device())).tril();
  auto log_d = (b.unsqueeze(-1) - b.unsqueeze(-2) + igate.unsqueeze(-2))
                   .masked_fill(causal.logical_not(), -std::numeric_limits<double>::infinity());
  auto m_intra = std::get<0>(log_d.max(-1));                // (B,NH,NC,L); the diagonal is finite
  auto m_inter = b + m_enter.unsqueeze(-1);
  auto m_comb = torch::maximum(m_inter, m_intra);
  auto s = torch::matmul(q, k.transpose(-2, -1)) * scale * torch::exp(log_d - m_comb.unsqueeze(-1));
  auto q_inter = q * (scale * torch::exp(m_inter - m_comb)).unsqueeze(-1);
  auto numerator = torch::matmul(s, v) + torch::matmul(q_inter, C_enter);
  auto qn = s.sum(-1) + torch::matmul(q_inter, n_enter.unsqueeze(-1)).squeeze(-1);
  auto normalizer = torch::maximum(qn.abs(), torch::exp(-m_comb));
  auto h = numerator / (normalizer + eps).unsqueeze(-1);
  if (stats) *stats = {torch::copysign(normalizer, qn), m_comb};
  return {h, mLSTMState{C, n, m.unsqueeze(-1)}};
}

// Splits (B,NH,S,...) into (B,NH,NC,L,...) for S = NC*L.
torch::Tensor as_chunks(const torch::Tensor& x, int64_t L) {
  auto sizes = x.sizes().vec();
  const int64_t S = sizes[2];
  sizes[2] = L;
  sizes.insert(sizes.begin() + 2, S / L);
  return x.reshape(sizes);
}

}  // namespace

void check_mlstm_inputs(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& igate, const torch::Tensor& fgate, const mLSTMState& state) {
  TORCH_CHECK(q.dim() == 4, "mLSTM: q must be (B, NH, S, DHQK), got ", q.sizes());
  const int64_t B = q.size(0), NH = q.size(1), S = q.size(2), DK = q.size(3);
  TORCH_CHECK(k.sizes() == q.sizes(), "mLSTM: k must have the shape of q ", q.sizes(), ", got ", k.sizes());
  TORCH_CHECK(v.dim() == 4 && v.size(0) == B && v.size(1) == NH && v.size(2) == S,
              "mLSTM: v must be (B, NH, S, DHV) = (", B, ", ", NH, ", ", S, ", DHV), got ", v.sizes());
  TORCH_CHECK(igate.sizes() == torch::IntArrayRef({B, NH, S}), "mLSTM: igate must be (B, NH, S) = (", B,
              ", ", NH, ", ", S, "), got ", igate.sizes());
  TORCH_CHECK(fgate.sizes() == igate.sizes(), "mLSTM: fgate must be (B, NH, S) = (", B, ", ", NH, ", ", S,
              "), got ", fgate.sizes());
  TORCH_CHECK(S >= 1, "mLSTM: the sequence must not be empty");
  if (state.defined()) {
    const int64_t DV = v.size(3);
    TORCH_CHECK(state.C.sizes() == torch::IntArrayRef({B, NH, DK, DV}), "mLSTM: state C must be (", B, ", ",
                NH, ", ", DK, ", ", DV, "), got ", state.C.sizes());
    TORCH_CHECK(state.n.defined() && state.n.sizes() == torch::IntArrayRef({B, NH, DK}),
                "mLSTM: state n must be (", B, ", ", NH, ", ", DK, ")");
    TORCH_CHECK(state.m.defined() && state.m.sizes() == torch::IntArrayRef({B, NH, 1}),
                "mLSTM: state m must be (", B, ", ", NH, ", 1)");
  }
}

mLSTMState mlstm_zero_state(int64_t batch, int64_t num_heads, int64_t dhqk, int64_t dhv,
                            const torch::TensorOptions& options) {
  auto opts = options.dtype() == torch::kFloat64 ? options : options.dtype(torch::kFloat32);
  return {torch::zeros({batch, num_heads, dhqk, dhv}, opts), torch::zeros({batch, num_heads, dhqk}, opts),
          torch::zeros({batch, num_heads, 1}, opts)};
}

std::tuple<torch::Tensor, mLSTMState> mlstm_chunkwise(const torch::Tensor& q, const torch::Tensor& k,
                                                      const torch::Tensor& v, const torch::Tensor& igate,
                                                      const torch::Tensor& fgate, const mLSTMState& state,
                                                      int64_t chunk_size, double eps, mLSTMForwardStats* stats) {
  check_mlstm_inputs(q, k, v, igate, fgate, state);
  TORCH_CHECK(chunk_size >= 1, "mLSTM: chunk_size must be positive, got ", chunk_size);
  const auto dt = compute_dtype(q);
  const int64_t B = q.size(0), NH = q.size(1), S = q.size(2), DK = q.size(3), DV = v.size(3);
  auto opts = q.options().dtype(dt);
  mLSTMState st = initial_state(state, B, NH, DK, DV, opts);
  auto qc = q.to(dt), kc = k.to(dt), vc = v.to(dt), ic = igate.to(dt), fc = fgate.to(dt);

  // Full chunks of length L together, then the remainder (S mod L) as one shorter chunk.
  std::vector<torch::Tensor> parts, normalizers, stabilizers;
  const int64_t L = std::min(chunk_size, S);
  const int64_t full = (S / L) * L;
  const std::pair<int64_t, int64_t> segments[] = {{0, L}, {full, S - full}};  // (begin, chunk length)
  for (const auto& segment : segments) {
    const int64_t begin = segment.first, len = segment.second, end = begin == 0 ? full : S;
    if (end <= begin) continue;
    auto chunks = [&](const torch::Tensor& x) { return as_chunks(x.narrow(2, begin, end - begin), len); };
    mLSTMForwardStats part_stats;
    auto out = chunk_forward(chunks(qc), chunks(kc), chunks(vc), chunks(ic), chunks(fc), st, eps,
                             stats ? &part_stats : nullptr);
    parts.push_back(std::get<0>(out).reshape({B, NH, end - begin, DV}));
    if (stats) {
      normalizers.push_back(part_stats.normalizer.reshape({B, NH, end - begin}));
      stabilizers.push_back(part_stats.stabilizer.reshape({B, NH, end - begin}));
    }
    st = std::get<1>(out);
  }
  auto h = parts.size() == 1 ? parts[0] : torch::cat(parts, 2);
  if (stats) *stats = {torch::cat(normalizers, 2), torch::cat(stabilizers, 2)};
  return {h.to(q.scalar_type()), st};
}

std::tuple<torch::Tensor, mLSTMState> mlstm_parallel(const torch::Tensor& q, const torch::Tensor& k,
                                                     const torch::Tensor& v, const torch::Tensor& igate,
                                                     const torch::Tensor& fgate, const mLSTMState& state,
                                                     double eps) {
  return mlstm_chunkwise(q, k, v, igate, fgate, state, q.size(2), eps);
}

std::tuple<torch::Tensor, mLSTMState> mlstm_step(const torch::Tensor& q, const torch::Tensor& k,
                                                 const torch::Tensor& v, const torch::Tensor& igate,
                                                 const torch::Tensor& fgate, const mLSTMState& state,
                                                 double eps) {
  TORCH_CHECK(q.dim() == 3 && v.dim() == 3 && igate.dim() == 2,
              "mlstm_step: expected q, k (B, NH, DHQK), v (B, NH, DHV), gates (B, NH); got q ", q.sizes(),
              ", v ", v.sizes(), ", igate ", igate.sizes());
  check_mlstm_inputs(q.unsqueeze(2), k.unsqueeze(2), v.unsqueeze(2), igate.unsqueeze(2), fgate.unsqueeze(2),
                     state);
  const auto dt = compute_dtype(q);
  const int64_t B = q.size(0), NH = q.size(1), DK = q.size(2), DV = v.size(2);
  mLSTMState st = initial_state(state, B, NH, DK, DV, q.options().dtype(dt));
  auto qc = q.to(dt) / std::sqrt(static_cast<double>(DK)), kc = k.to(dt), vc = v.to(dt);
  auto i = igate.to(dt).unsqueeze(-1), lf = F::logsigmoid(fgate.to(dt)).unsqueeze(-1);  // (B,NH,1)

  auto m_new = torch::maximum(lf + st.m, i);
  auto decay = torch::exp(lf + st.m - m_new), input = torch::exp(i - m_new);
  auto C = decay.unsqueeze(-1) * st.C + input.unsqueeze(-1) * kc.unsqueeze(-1) * vc.unsqueeze(-2);
  auto n = decay * st.n + input * kc;
  auto numerator = torch::matmul(qc.unsqueeze(-2), C).squeeze(-2);   // (B,NH,DV)
  auto qn = (qc * n).sum(-1, /*keepdim=*/true);                        // (B,NH,1)
  auto h = numerator / (torch::maximum(qn.abs(), torch::exp(-m_new)) + eps);
  return {h.to(q.scalar_type()), mLSTMState{C, n, m_new}};
}

std::tuple<torch::Tensor, mLSTMState> mlstm_recurrent(const torch::Tensor& q, const torch::Tensor& k,
                                                      const torch::Tensor& v, const torch::Tensor& igate,
                                                      const torch::Tensor& fgate, const mLSTMState& state,
                                                      double eps) {
  check_mlstm_inputs(q, k, v, igate, fgate, state);
  mLSTMState st = state;
  std::vector<torch::Tensor> hs;
  for (int64_t t = 0; t < q.size(2); ++t) {
    auto [h, next] = mlstm_step(q.select(2, t), k.select(2, t), v.select(2, t), igate.select(2, t),
                                fgate.select(2, t), st, eps);
    hs.push_back(h);
    st = next;
  }
  return {torch::stack(hs, 2), st};
}

}  // namespace xlstm
