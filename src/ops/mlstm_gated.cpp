// ops::mlstm_gated_chunkwise: the NeurIPS mLSTM cell with its input and forget gate projections,
// differentiated as one function. The modules compute the gates as Linear(cat(q, k, v)); under
// autograd that costs a (B, S, 3 Di) concatenation forward and, backward, the projections' input
// gradient as a full (B, S, 3 Di) tensor that autograd then adds to the cell's dq, dk and dv (three
// more passes). Here the gates are three skinny products of q, k and v with the column blocks of the
// stacked weights, and the backward adds the gates' share into the cell's dq, dk, dv in place
// (one GEMM with beta = 1 each). The chunkwise op below autograd, its cached forward and backward
// ops as ChunkwiseFunction (mlstm_autograd.cpp) call them.
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/torch.h>

#include "ops/tensor_args.h"
#include "xlstm/ops.h"

namespace xlstm::ops {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using T = torch::Tensor;

// a (n, p) times b (p, m) with fp32 accumulation and an fp32 (fp64 for fp64) result, whatever a's dtype.
T mm_f32(const T& a, const T& b) {
  const auto st = a.scalar_type();
  if (st == torch::kFloat32 || st == torch::kFloat64) return a.mm(b.to(st));
  if (a.is_cuda()) return at::mm(a, b.to(st), torch::kFloat32);
  return a.to(torch::kFloat32).mm(b.to(torch::kFloat32));
}

// The gates' stacked weight (2 NH, 3 Di) and bias (2 NH; zeros where absent), fp32.
struct GateParams {
  T weight, bias;
};
GateParams stacked(const T& w_i, const T& b_i, const T& w_f, const T& b_f) {
  const auto f32 = w_i.options().dtype(w_i.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32);
  const auto bias = [&](const T& b) { return b.defined() ? b.to(f32) : torch::zeros({w_i.size(0)}, f32); };
  return {torch::cat({w_i.to(f32), w_f.to(f32)}), torch::cat({bias(b_i), bias(b_f)})};
}

// (B, S, Di) -> (B, NH, S, DH), a view.
T heads(const T& x, int64_t NH) { return x.view({x.size(0), x.size(1), NH, x.size(2) / NH}).transpose(1, 2); }

// The gate pre-activations (B*S, 2 NH) in fp32, rounded to q's dtype as the Linear modules' output is
// under autocast: the column blocks of the stacked weight against q, k and v.
T gate_preacts(const T& q, const T& k, const T& v, const GateParams& g) {
  const int64_t Di = q.size(2);
  const auto flat = [](const T& x) { return x.reshape({-1, x.size(2)}); };
  auto out = mm_f32(flat(q), g.weight.narrow(1, 0, Di).t());
  out += mm_f32(flat(k), g.weight.narrow(1, Di, Di).t());
  out += mm_f32(flat(v), g.weight.narrow(1, 2 * Di, Di).t());
  out += g.bias;
  return out.to(q.scalar_type()).to(out.scalar_type());
}

// (B*S, 2 NH) -> i, f (B, NH, S) contiguous.
std::pair<T, T> split_gates(const T& g, int64_t B, int64_t S, int64_t NH) {
  const auto bsh = g.view({B, S, 2 * NH});
  return {bsh.narrow(2, 0, NH).transpose(1, 2).contiguous(), bsh.narrow(2, NH, NH).transpose(1, 2).contiguous()};
}

class GatedChunkwiseFunction : public torch::autograd::Function<GatedChunkwiseFunction> {
 public:
  // Absent biases are nullopt (autograd takes no undefined tensor as an input).
  static variable_list forward(AutogradContext* ctx, const T& q, const T& k, const T& v, const T& w_i,
                               const OptTensor& b_i_opt, const T& w_f, const OptTensor& b_f_opt, int64_t num_heads,
                               int64_t chunk_size, double eps, bool keep_chunk_states) {
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    const T b_i = b_i_opt.value_or(T()), b_f = b_f_opt.value_or(T());
    const int64_t B = q.size(0), S = q.size(1), NH = num_heads;
    const auto [i, f] = split_gates(gate_preacts(q, k, v, stacked(w_i, b_i, w_f, b_f)), B, S, NH);
    const std::nullopt_t none = std::nullopt;
    T h, n_out, m_out, c_last, n_last, m_last, chunk_states, chunk_n, chunk_m;  // the chunk states undefined: recomputed
    if (keep_chunk_states)
      std::tie(h, n_out, m_out, c_last, n_last, m_last, chunk_states, chunk_n, chunk_m) = ops::mlstm_chunkwise_fw_cached(
          heads(q, NH), heads(k, NH), heads(v, NH), i, f, none, none, none, chunk_size, eps);
    else
      std::tie(h, n_out, m_out, c_last, n_last, m_last) =
          ops::mlstm_chunkwise_fw(heads(q, NH), heads(k, NH), heads(v, NH), i, f, none, none, none, chunk_size, eps);
    ctx->save_for_backward({q, k, v, w_i, b_i, w_f, b_f, i, f, n_out, m_out, chunk_states, chunk_n, chunk_m});
    ctx->saved_data["num_heads"] = num_heads;
    ctx->saved_data["chunk_size"] = chunk_size;
    ctx->saved_data["eps"] = eps;
    return {h, c_last, n_last, m_last};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto s = ctx->get_saved_variables();
    const T &q = s[0], &k = s[1], &v = s[2], &w_i = s[3], &b_i = s[4], &w_f = s[5], &b_f = s[6];
    const int64_t NH = ctx->saved_data["num_heads"].toInt(), B = q.size(0), S = q.size(1), Di = q.size(2);
    const T dh = grads[0].defined() ? grads[0] : torch::zeros({B, NH, S, Di / NH}, q.options());
    const std::nullopt_t none = std::nullopt;
    auto [dq_h, dk_h, dv_h, di, df, dc0, dn0, dm0] = ops::mlstm_chunkwise_bw(
        dh, detail::opt(grads[1]), detail::opt(grads[2]), detail::opt(grads[3]), heads(q, NH), heads(k, NH),
        heads(v, NH), s[7], s[8], none, none, none, s[9], s[10], ctx->saved_data["chunk_size"].toInt(),
        ctx->saved_data["eps"].toDouble(), detail::opt(s[11]), detail::opt(s[12]), detail::opt(s[13]));
    // (B, S, Di) gradients: views where the op wrote them token-major (it does), copies otherwise.
    const auto tokens = [&](const T& g) { return g.transpose(1, 2).reshape({B * S, Di}); };
    T dq = tokens(dq_h), dk = tokens(dk_h), dv = tokens(dv_h);
    const T dg = torch::cat({di.transpose(1, 2), df.transpose(1, 2)}, 2).reshape({B * S, 2 * NH});  // fp32
    const GateParams g = stacked(w_i, b_i, w_f, b_f);
    const T dg_in = dg.to(q.scalar_type());
    const T weight = g.weight.to(q.scalar_type());
    T dw = torch::empty_like(g.weight);
    for (auto [x, dx, col] : {std::tuple{&q, &dq, int64_t{0}}, std::tuple{&k, &dk, Di}, std::tuple{&v, &dv, 2 * Di}}) {
      dx->addmm_(dg_in, weight.narrow(1, col, Di));  // the gates' share, added in place
      dw.narrow(1, col, Di).copy_(mm_f32(dg_in.t(), x->reshape({B * S, Di})));
    }
    const T db = dg.sum(0);
    const auto grad_of = [](const T& param, const T& grad) { return param.defined() ? grad.to(param.scalar_type()) : T(); };
    return {dq.view({B, S, Di}),
            dk.view({B, S, Di}),
            dv.view({B, S, Di}),
            dw.narrow(0, 0, NH).to(w_i.scalar_type()),
            grad_of(b_i, db.narrow(0, 0, NH)),
            dw.narrow(0, NH, NH).to(w_f.scalar_type()),
            grad_of(b_f, db.narrow(0, NH, NH)),
            T(),
            T(),
            T(),
            T()};
  }
};

}  // namespace

std::tuple<T, mLSTMState> mlstm_gated_chunkwise(const T& q, const T& k, const T& v, const T& w_i, const T& b_i,
                                                const T& w_f, const T& b_f, int64_t num_heads, int64_t chunk_size,
                                                double eps, bool keep_chunk_states) {
  TORCH_CHECK(q.dim() == 3 && k.sizes() == q.sizes() && v.sizes() == q.sizes() && num_heads > 0 &&
                  q.size(2) % num_heads == 0,
              "mlstm_gated_chunkwise: q, k, v must be (B, S, Di) alike with Di a multiple of num_heads ", num_heads,
              ", got ", q.sizes(), ", ", detail::sizes_of(k), ", ", detail::sizes_of(v));
  const std::vector<int64_t> w_shape{num_heads, 3 * q.size(2)};
  for (const auto& [name, w, b] : {std::tuple{"w_i", &w_i, &b_i}, std::tuple{"w_f", &w_f, &b_f}}) {
    TORCH_CHECK(w->defined() && w->sizes() == c10::IntArrayRef(w_shape), "mlstm_gated_chunkwise: ", name,
                " must be ", c10::IntArrayRef(w_shape), ", got ", detail::sizes_of(*w));
    TORCH_CHECK(!b->defined() || b->sizes() == c10::IntArrayRef({num_heads}), "mlstm_gated_chunkwise: the bias of ",
                name, " must be (", num_heads, "), got ", b->sizes());
  }
  if (!torch::autograd::compute_requires_grad(q, k, v, w_i, b_i, w_f, b_f)) {
    const auto [i, f] =
        split_gates(gate_preacts(q, k, v, stacked(w_i, b_i, w_f, b_f)), q.size(0), q.size(1), num_heads);
    return mlstm_chunkwise(heads(q, num_heads), heads(k, num_heads), heads(v, num_heads), i, f, {}, chunk_size, eps);
  }
  auto out = GatedChunkwiseFunction::apply(q, k, v, w_i, detail::opt(b_i), w_f, detail::opt(b_f), num_heads, chunk_size,
                                           eps, keep_chunk_states);
  return {out[0], mLSTMState{out[1], out[2], out[3]}};
}

std::optional<std::tuple<T, mLSTMState>> mlstm_gated_on_device(const T& q, const T& k, const T& v, const T& w_i,
                                                               const T& b_i, const T& w_f, const T& b_f,
                                                               int64_t num_heads, const mLSTMState& state,
                                                               int64_t chunk_size, double eps, bool keep_chunk_states) {
  if (!XLSTM_WITH_CUDA || !q.is_cuda() || state.defined() || q.size(1) < 2) return std::nullopt;
  return mlstm_gated_chunkwise(q, k, v, w_i, b_i, w_f, b_f, num_heads, chunk_size, eps, keep_chunk_states);
}

}  // namespace xlstm::ops
