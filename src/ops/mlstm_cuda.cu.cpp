// CUDA kernels of the mLSTM ops: checks the arguments, decides whether the kernels cover them (else
// the ATen reference runs, with a one-time warning), allocates outputs and scratch, and fills the plain
// parameter structs of kernels/mlstm/params.h.
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "mlstm/launch.h"
#include "ops/cuda_binding.h"
#include "ops/mlstm_checks.h"
#include "ops/mlstm_reference.h"

namespace xlstm::ops::detail {
namespace {

namespace K = xlstm::kernels;

bool head_dim_ok(int64_t d) { return d % 64 == 0 && d >= 64 && d <= 1024; }

// Empty when the kernels cover these inputs, else why not.
std::string unsupported(const torch::Tensor& q, const torch::Tensor& v) {
  const auto dt = q.scalar_type();
  if (!kernel_covers(dt))
    return std::string("dtype ") + c10::toString(dt);
  const int64_t dk = q.size(-1), dv = v.size(-1);
  if (!head_dim_ok(dk) || !head_dim_ok(dv))
    return "head dims " + std::to_string(dk) + "/" + std::to_string(dv) + " (need multiples of 64 in [64, 1024])";
  const auto* prop = at::cuda::getDeviceProperties(q.device().index());
  if (prop->major < 8)
    return "compute capability " + std::to_string(prop->major) + "." + std::to_string(prop->minor) + " (< 8.0)";
  return {};
}

bool mlstm_kernels_apply(const char* op, const torch::Tensor& q, const torch::Tensor& v) {
  const std::string why = unsupported(q, v);
  if (why.empty()) return true;
  TORCH_WARN_ONCE("xlstm: no CUDA mLSTM kernel for ", why, " (first seen in ", op,
                  "); using the ATen implementation");
  return false;
}

// A (B, NH, S, D) tensor whose rows start at 16-byte boundaries (as the kernels' vector loads need),
// copied to a contiguous one when its strides or address do not allow that.
torch::Tensor rows_aligned(const torch::Tensor& t) {
  const int64_t vec = 16 / t.element_size();
  const bool ok = t.stride(3) == 1 && t.stride(0) % vec == 0 && t.stride(1) % vec == 0 && t.stride(2) % vec == 0 &&
                  reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0;
  return ok ? t : aligned16(t.contiguous());
}

K::SeqTensor seq(const torch::Tensor& t) { return {t.data_ptr(), t.stride(0), t.stride(1), t.stride(2)}; }

// A new (B, NH, S, D) tensor (the kernels write any SeqTensor strides) laid out like t when t is the
// head view of a token-major (B, S, NH * D) tensor, as the model layers pass q, k, v: their gradients
// then reshape back to (B, S, NH * D) without a copy. Otherwise contiguous.
torch::Tensor empty_heads_like(const torch::Tensor& t, int64_t D, const torch::TensorOptions& options) {
  const int64_t B = t.size(0), NH = t.size(1), S = t.size(2);
  const bool token_major = t.size(3) == D && t.stride(3) == 1 && t.stride(1) == D && t.stride(2) == NH * D &&
                           t.stride(0) == S * NH * D && NH > 1 && S > 1;
  if (token_major) return torch::empty({B, S, NH, D}, options).transpose(1, 2);
  return torch::empty({B, NH, S, D}, options);
}

const float* fptr(const OptTensor& t) { return t && t->defined() ? t->data_ptr<float>() : nullptr; }
OptTensor contiguous(const OptTensor& t) { return t && t->defined() ? OptTensor(t->contiguous()) : std::nullopt; }

// The dtype the chunkwise kernels compute in: fp16 runs as bf16 (scaled intermediates such as dS or the
// gradient states leave the fp16 range), with one rounding of the inputs to bf16.
torch::Tensor chunkwise_input(const torch::Tensor& t) {
  return t.scalar_type() == torch::kFloat16 ? t.to(torch::kBFloat16) : t;
}

// The scratch buffers of one call carved out of a single allocation (one caching-allocator call
// instead of one per buffer), each at a 256-byte boundary. add() records a buffer; allocate() makes
// the tensor and sets every recorded pointer; the tensor must stay alive until the kernels are queued.
class Workspace {
 public:
  template <class T>
  void add(T*& ptr, int64_t elements) {
    add_part(elements * static_cast<int64_t>(sizeof(T)), [&ptr](uint8_t* at) { ptr = reinterpret_cast<T*>(at); });
  }
  void add_bytes(void*& ptr, int64_t bytes) {
    add_part(bytes, [&ptr](uint8_t* at) { ptr = at; });
  }
  torch::Tensor allocate(const torch::Device& device) {
    auto buffer = torch::empty({bytes_}, torch::TensorOptions().dtype(torch::kUInt8).device(device));
    auto* base = static_cast<uint8_t*>(buffer.data_ptr());
    for (const auto& [set, offset] : parts_) set(base + offset);
    return buffer;
  }

 private:
  static constexpr int64_t kAlign = 256;
  void add_part(int64_t bytes, std::function<void(uint8_t*)> set) {
    parts_.emplace_back(std::move(set), bytes_);
    bytes_ += (bytes + kAlign - 1) / kAlign * kAlign;
  }
  std::vector<std::pair<std::function<void(uint8_t*)>, int64_t>> parts_;
  int64_t bytes_ = 0;
};

// The chunk length of the kernels: chunk_size when they support it, else 128.
int kernel_chunk(int64_t chunk_size) {
  return chunk_size % 64 == 0 && chunk_size >= 64 && chunk_size <= K::kMaxChunk ? static_cast<int>(chunk_size) : 128;
}

// The fields both parameter structs have.
template <class P>
void set_common(P& p, const torch::Tensor& q, int64_t dqk, int64_t dhv, double eps) {
  p.dtype = kernel_dtype(q);
  p.B = static_cast<int>(q.size(0));
  p.NH = static_cast<int>(q.size(1));
  p.DQK = static_cast<int>(dqk);
  p.DHV = static_cast<int>(dhv);
  p.eps = static_cast<float>(eps);
  p.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(dqk)));
}

// The chunk states the forward keeps for the backward (mlstm_chunkwise_fw_cached's cache).
struct ChunkCache {
  torch::Tensor states, n, m;  // (B, NH, NC, DQK, DHV) compute dtype, (B, NH, NC, DQK) fp32, (B, NH, NC + 1) fp64
};

// Dimensions and inputs (kept alive by `keep`) in p, and the forward's scratch buffers recorded in ws;
// the chunk states among them unless `cache` (then the caller points p at a ChunkCache). The fused
// forward needs no chunk states (C) in memory, so a forward without a cache allocates none.
void chunkwise_params(K::ChunkwiseParams& p, const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                      const torch::Tensor& igate, const torch::Tensor& fgate, const mLSTMState& state,
                      int64_t chunk_size, double eps, bool forward, bool cache, std::vector<torch::Tensor>& keep,
                      Workspace& ws) {
  set_common(p, q, q.size(3), v.size(3), eps);
  p.S = static_cast<int>(q.size(2));
  p.L = kernel_chunk(chunk_size);
  p.NC = (p.S + p.L - 1) / p.L;
  for (const auto& t : {rows_aligned(q), rows_aligned(k), rows_aligned(v), igate.contiguous(), fgate.contiguous()})
    keep.push_back(t);
  p.q = seq(keep[0]);
  p.k = seq(keep[1]);
  p.v = seq(keep[2]);
  p.igate = keep[3].data_ptr<float>();
  p.fgate = keep[4].data_ptr<float>();
  if (state.defined()) {
    for (const auto& t : {state.C.contiguous(), state.n.contiguous(), state.m.contiguous()}) keep.push_back(t);
    p.c0 = keep[5].data_ptr<float>();
    p.n0 = keep[6].data_ptr<float>();
    p.m0 = keep[7].data_ptr<float>();
  }
  const auto* prop = at::cuda::getDeviceProperties(q.device().index());  // (cached by ATen per device)
  p.wgmma = K::chunkwise_wgmma(p, prop->major, prop->sharedMemPerBlockOptin);
  const auto sizes = K::chunkwise_scratch(p);
  const int64_t elem = q.element_size();
  for (double** sum : {&p.gate_b, &p.gate_ib, &p.gate_cm}) ws.add(*sum, sizes.positions);
  ws.add(p.chunk_g, sizes.chunks);
  ws.add(p.chunk_amax, sizes.chunks);
  if (!cache) {
    ws.add(p.chunk_m, sizes.chunk_m);
    if (!(forward && p.wgmma)) ws.add_bytes(p.states, sizes.states * elem);
    ws.add(p.n_states, sizes.n_states);
  }
  ws.add_bytes(p.pbuf, sizes.scores * elem);
}

std::vector<int64_t> cache_states_shape(const K::ChunkwiseParams& p) { return {p.B, p.NH, p.NC, p.DQK, p.DHV}; }
std::vector<int64_t> cache_n_shape(const K::ChunkwiseParams& p) { return {p.B, p.NH, p.NC, p.DQK}; }
std::vector<int64_t> cache_m_shape(const K::ChunkwiseParams& p) { return {p.B, p.NH, p.NC + 1}; }

void use_cache(K::ChunkwiseParams& p, const ChunkCache& c) {
  p.states = c.states.data_ptr();
  p.n_states = c.n.data_ptr<float>();
  p.chunk_m = c.m.data_ptr<double>();
}

// The cache given to the backward, checked against the kernels' shapes for these inputs (a cache from
// other inputs or another chunk_size would be read out of bounds), made contiguous.
ChunkCache checked_cache(const K::ChunkwiseParams& p, const torch::Tensor& qc, const torch::Tensor& states,
                         const torch::Tensor& n, const torch::Tensor& m) {
  const char* op = "xlstm::mlstm_chunkwise_bw";
  const auto check = [&](const char* name, const torch::Tensor& t, const std::vector<int64_t>& shape,
                         torch::ScalarType dtype) {
    TORCH_CHECK(t.sizes() == c10::IntArrayRef(shape) && t.scalar_type() == dtype, op, ": ", name, " must be ", dtype,
                " of shape ", c10::IntArrayRef(shape), " (the cache of mlstm_chunkwise_fw_cached for these inputs and ",
                "chunk_size), got ", t.scalar_type(), " of shape ", t.sizes());
  };
  check("chunk_states", states, cache_states_shape(p), qc.scalar_type());
  check("chunk_n", n, cache_n_shape(p), torch::kFloat32);
  check("chunk_m", m, cache_m_shape(p), torch::kFloat64);
  return {states.contiguous(), n.contiguous(), m.contiguous()};
}

// The forward kernels on checked inputs; with `cache` the chunk states go to fresh tensors (returned).
FwOut chunkwise_fw_kernels(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                           const torch::Tensor& igate, const torch::Tensor& fgate, const mLSTMState& state,
                           int64_t chunk_size, double eps, ChunkCache* cache) {
  const c10::cuda::CUDAGuard guard(q.device());
  std::vector<torch::Tensor> keep;
  Workspace ws;
  K::ChunkwiseParams p;
  const auto qc = chunkwise_input(q);
  chunkwise_params(p, qc, chunkwise_input(k), chunkwise_input(v), igate, fgate, state, chunk_size, eps,
                   /*forward=*/true, cache != nullptr, keep, ws);
  keep.push_back(ws.allocate(q.device()));
  const int64_t B = p.B, NH = p.NH, S = p.S, DK = p.DQK, DV = p.DHV;
  const auto f32 = q.options().dtype(torch::kFloat32);
  if (cache) {
    *cache = {torch::empty(cache_states_shape(p), qc.options()), torch::empty(cache_n_shape(p), f32),
              torch::empty(cache_m_shape(p), q.options().dtype(torch::kFloat64))};
    use_cache(p, *cache);
  }
  auto h = torch::empty({B, NH, S, DV}, qc.options());
  auto n_out = torch::empty({B, NH, S}, f32), m_out = torch::empty({B, NH, S}, f32);
  auto c_last = torch::empty({B, NH, DK, DV}, f32), n_last = torch::empty({B, NH, DK}, f32);
  auto m_last = torch::empty({B, NH, 1}, f32);
  p.h = seq(h);
  p.n_out = n_out.data_ptr<float>();
  p.m_out = m_out.data_ptr<float>();
  p.c_last = c_last.data_ptr<float>();
  p.n_last = n_last.data_ptr<float>();
  p.m_last = m_last.data_ptr<float>();
  C10_CUDA_CHECK(K::mlstm_chunkwise_fw_cuda(p, at::cuda::getCurrentCUDAStream()));
  return {h.to(q.scalar_type()), n_out, m_out, c_last, n_last, m_last};
}

FwOut chunkwise_fw_cuda(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& igate, const torch::Tensor& fgate, const OptTensor& c0,
                        const OptTensor& n0, const OptTensor& m0, int64_t chunk_size, double eps) {
  const mLSTMState state = checked_fw_state(q, k, v, igate, fgate, c0, n0, m0, chunk_size, eps);
  if (!mlstm_kernels_apply("xlstm::mlstm_chunkwise_fw", q, v))
    return aten_chunkwise_fw(q, k, v, igate, fgate, state, chunk_size, eps);
  return chunkwise_fw_kernels(q, k, v, igate, fgate, state, chunk_size, eps, nullptr);
}

FwCachedOut chunkwise_fw_cached_cuda(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                     const torch::Tensor& igate, const torch::Tensor& fgate, const OptTensor& c0,
                                     const OptTensor& n0, const OptTensor& m0, int64_t chunk_size, double eps) {
  const mLSTMState state = checked_fw_state(q, k, v, igate, fgate, c0, n0, m0, chunk_size, eps);
  if (!mlstm_kernels_apply("xlstm::mlstm_chunkwise_fw_cached", q, v))
    return without_cache(aten_chunkwise_fw(q, k, v, igate, fgate, state, chunk_size, eps));
  ChunkCache cache;
  const FwOut out = chunkwise_fw_kernels(q, k, v, igate, fgate, state, chunk_size, eps, &cache);
  return std::tuple_cat(out, std::make_tuple(cache.states, cache.n, cache.m));
}

BwOut chunkwise_bw_cuda(const torch::Tensor& dh, const OptTensor& dc_last, const OptTensor& dn_last,
                        const OptTensor& dm_last, const torch::Tensor& q, const torch::Tensor& k,
                        const torch::Tensor& v, const torch::Tensor& igate, const torch::Tensor& fgate,
                        const OptTensor& c0, const OptTensor& n0, const OptTensor& m0,
                        const torch::Tensor& n_out, const torch::Tensor& m_out, int64_t chunk_size, double eps,
                        const OptTensor& chunk_states, const OptTensor& chunk_n, const OptTensor& chunk_m) {
  const char* op = "xlstm::mlstm_chunkwise_bw";
  const mLSTMState state =
      checked_bw_state(dh, dc_last, dn_last, dm_last, q, k, v, igate, fgate, c0, n0, m0, n_out, m_out, chunk_size, eps);
  const bool cached = check_chunk_cache(op, q, chunk_states, chunk_n, chunk_m);
  if (!mlstm_kernels_apply(op, q, v))
    return aten_chunkwise_bw(dh, dc_last, dn_last, dm_last, q, k, v, igate, fgate, state, chunk_size, eps);
  const c10::cuda::CUDAGuard guard(q.device());
  std::vector<torch::Tensor> keep;
  Workspace ws;
  K::ChunkwiseParams p;
  const auto qc = chunkwise_input(q);
  chunkwise_params(p, qc, chunkwise_input(k), chunkwise_input(v), igate, fgate, state, chunk_size, eps,
                   /*forward=*/false, cached, keep, ws);
  if (cached) {
    const ChunkCache cache = checked_cache(p, qc, *chunk_states, *chunk_n, *chunk_m);
    keep.insert(keep.end(), {cache.states, cache.n, cache.m});
    use_cache(p, cache);
    p.states_ready = true;
  }
  const int64_t B = p.B, NH = p.NH, S = p.S, DK = p.DQK, DV = p.DHV;
  const auto f32 = q.options().dtype(torch::kFloat32);
  for (const auto& t : {rows_aligned(chunkwise_input(dh)), n_out.contiguous(), m_out.contiguous()}) keep.push_back(t);
  const size_t in = keep.size() - 3;
  p.dh = seq(keep[in]);
  p.n_out = keep[in + 1].data_ptr<float>();
  p.m_out = keep[in + 2].data_ptr<float>();
  const OptTensor dcl = contiguous(dc_last), dnl = contiguous(dn_last), dml = contiguous(dm_last);
  p.dc_last = fptr(dcl);
  p.dn_last = fptr(dnl);
  p.dm_last = fptr(dml);

  auto dq = empty_heads_like(q, DK, qc.options()), dk = empty_heads_like(k, DK, qc.options());
  auto dv = empty_heads_like(v, DV, qc.options());
  auto di = torch::empty({B, NH, S}, f32), df = torch::empty({B, NH, S}, f32);
  torch::Tensor dc0, dn0, dm0;
  if (state.defined()) {
    dc0 = torch::empty({B, NH, DK, DV}, f32);
    dn0 = torch::empty({B, NH, DK}, f32);
    dm0 = torch::empty({B, NH, 1}, f32);
    p.dc0 = dc0.data_ptr<float>();
    p.dn0 = dn0.data_ptr<float>();
    p.dm0 = dm0.data_ptr<float>();
  }
  p.dq = seq(dq);
  p.dk = seq(dk);
  p.dv = seq(dv);
  p.di = di.data_ptr<float>();
  p.df = df.data_ptr<float>();
  const auto sizes = K::chunkwise_scratch(p);
  const int64_t elem = qc.element_size();
  ws.add_bytes(p.dstates, sizes.states * elem);
  ws.add(p.dn_states, sizes.n_states);
  ws.add_bytes(p.dsbuf, sizes.scores * elem);
  ws.add(p.a_buf, sizes.positions);
  ws.add(p.dm_buf, sizes.positions);
  for (double** sum : {&p.xdot, &p.rowdot, &p.kst, &p.kdk}) ws.add(*sum, sizes.positions);
  ws.add(p.dchunk, sizes.chunks);
  ws.add(p.c0dot, B * NH);
  keep.push_back(ws.allocate(q.device()));
  C10_CUDA_CHECK(K::mlstm_chunkwise_bw_cuda(p, at::cuda::getCurrentCUDAStream()));
  const auto dt = q.scalar_type();
  return {dq.to(dt), dk.to(dt), dv.to(dt), di, df, dc0, dn0, dm0};
}

// The step kernel streams C as float4: contiguous and 16-byte aligned.
bool float4_ready(const torch::Tensor& c) {
  return c.is_contiguous() && reinterpret_cast<uintptr_t>(c.data_ptr()) % 16 == 0;
}

// Runs the step kernel writing into c_new, n_new, m_new (c_new may be c).
torch::Tensor step_into(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& igate, const torch::Tensor& fgate, const torch::Tensor& c,
                        const torch::Tensor& n, const torch::Tensor& m, double eps, torch::Tensor& c_new,
                        torch::Tensor& n_new, torch::Tensor& m_new) {
  K::StepParams p;
  set_common(p, q, q.size(2), v.size(2), eps);
  const auto qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous();
  const auto ic = igate.contiguous(), fc = fgate.contiguous(), nc = n.contiguous(), mc = m.contiguous();
  p.q = qc.data_ptr();
  p.k = kc.data_ptr();
  p.v = vc.data_ptr();
  p.igate = ic.data_ptr<float>();
  p.fgate = fc.data_ptr<float>();
  p.c = c.data_ptr<float>();
  p.n = nc.data_ptr<float>();
  p.m = mc.data_ptr<float>();
  auto h = torch::empty({p.B, p.NH, p.DHV}, q.options());
  p.h = h.data_ptr();
  p.c_new = c_new.data_ptr<float>();
  p.n_new = n_new.data_ptr<float>();
  p.m_new = m_new.data_ptr<float>();
  C10_CUDA_CHECK(K::mlstm_step_cuda(p, at::cuda::getCurrentCUDAStream()));
  return h;
}

StepOut step_cuda(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& igate,
                  const torch::Tensor& fgate, const torch::Tensor& c, const torch::Tensor& n, const torch::Tensor& m,
                  double eps) {
  const char* op = "xlstm::mlstm_step";
  check_step_args(op, q, k, v, igate, fgate, c, n, m, eps);
  if (!mlstm_kernels_apply(op, q, v)) return aten_step(q, k, v, igate, fgate, c, n, m, eps);
  const c10::cuda::CUDAGuard guard(q.device());
  const auto cc = float4_ready(c) ? c : c.clone(at::MemoryFormat::Contiguous);
  auto c_new = torch::empty_like(cc), n_new = torch::empty_like(n, at::MemoryFormat::Contiguous);
  auto m_new = torch::empty_like(m, at::MemoryFormat::Contiguous);
  auto h = step_into(q, k, v, igate, fgate, cc, n, m, eps, c_new, n_new, m_new);
  return {h, c_new, n_new, m_new};
}

torch::Tensor step_inplace_cuda(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                const torch::Tensor& igate, const torch::Tensor& fgate, torch::Tensor& c,
                                torch::Tensor& n, torch::Tensor& m, double eps) {
  const char* op = "xlstm::mlstm_step_";
  check_step_args(op, q, k, v, igate, fgate, c, n, m, eps);
  if (!mlstm_kernels_apply(op, q, v) || !float4_ready(c)) return aten_step_(q, k, v, igate, fgate, c, n, m, eps);
  const c10::cuda::CUDAGuard guard(q.device());
  // C is updated in place (each element is read and written by one thread); n and m are read by every
  // block of a head, so the new ones go to fresh buffers first.
  auto n_new = torch::empty_like(n, at::MemoryFormat::Contiguous), m_new = torch::empty_like(m, at::MemoryFormat::Contiguous);
  auto h = step_into(q, k, v, igate, fgate, c, n, m, eps, c, n_new, m_new);
  n.copy_(n_new);
  m.copy_(m_new);
  return h;
}

}  // namespace
}  // namespace xlstm::ops::detail

TORCH_LIBRARY_IMPL(xlstm, CUDA, m) {
  namespace d = xlstm::ops::detail;
  m.impl("mlstm_chunkwise_fw", &d::chunkwise_fw_cuda);
  m.impl("mlstm_chunkwise_fw_cached", &d::chunkwise_fw_cached_cuda);
  m.impl("mlstm_chunkwise_bw", &d::chunkwise_bw_cuda);
  m.impl("mlstm_step", &d::step_cuda);
  m.impl("mlstm_step_", &d::step_inplace_cuda);
}
