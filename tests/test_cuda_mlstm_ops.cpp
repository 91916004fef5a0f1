// The CUDA kernels of the mLSTM ops against the ATen reference run in float64 on the same inputs:
// outputs, last states, the saved normaliser and stabiliser, and every gradient (inputs, gates,
// initial state), over sequence lengths with and without a partial last chunk, all head-dim pairs of
// {64, 128, 256, 512}, three dtypes, with and without initial states and last-state gradients. Before
// each kernel call NaN-filled blocks are freed into the caching allocator, so an output element the
// kernels never write shows up as NaN. Skipped without a CUDA device.
#include <c10/cuda/CUDACachingAllocator.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>

#include "testing.h"
#include "xlstm/large/backend.h"
#include "xlstm/mlstm/backends.h"
#include "xlstm/mlstm/cell.h"
#include "xlstm/ops.h"

namespace xlstm {
namespace {

class CudaMlstmOps : public xlstm::testing::CudaTest {};

struct Case {
  int64_t B, NH, S, DK, DV;
  bool init, last_grads;
  torch::Dtype dt;
  int64_t chunk = 128;
  std::string name() const {
    std::ostringstream s;
    s << "B" << B << " NH" << NH << " S" << S << " dq" << DK << " dv" << DV << (init ? " init" : "")
      << (last_grads ? " dlast" : "") << " " << c10::toString(dt) << " chunk" << chunk;
    return s.str();
  }
};

struct Data {
  torch::Tensor q, k, v, i, f;
  mLSTMState s0;
  torch::Tensor dh, dc, dn, dm;  // gradients of h and of the last state
};

Data random_data(const Case& c) {
  auto o = torch::TensorOptions().device(torch::kCUDA);
  Data d;
  // q and k with a positive mean keep |q.n| away from 0 (where rounding is amplified by the function
  // itself); the gates spread over +-30 so that exp(i) is far outside fp32 range unstabilised.
  d.q = (torch::randn({c.B, c.NH, c.S, c.DK}, o) + 1.0).to(c.dt);
  d.k = (torch::randn({c.B, c.NH, c.S, c.DK}, o) + 1.0).to(c.dt);
  d.v = torch::randn({c.B, c.NH, c.S, c.DV}, o).to(c.dt);
  d.i = torch::randn({c.B, c.NH, c.S}, o) * 10.0;
  d.f = torch::randn({c.B, c.NH, c.S}, o) * 4.0 + 3.0;
  if (c.init) d.s0 = {torch::randn({c.B, c.NH, c.DK, c.DV}, o), torch::rand({c.B, c.NH, c.DK}, o) + 0.5,
                      torch::randn({c.B, c.NH, 1}, o) * 3.0};
  d.dh = torch::randn({c.B, c.NH, c.S, c.DV}, o).to(c.dt);
  d.dc = torch::randn({c.B, c.NH, c.DK, c.DV}, o);
  d.dn = torch::randn({c.B, c.NH, c.DK}, o);
  d.dm = torch::randn({c.B, c.NH, 1}, o);
  return d;
}

struct Result {
  torch::Tensor h, n_out, m_out, c, n, m;
  std::vector<torch::Tensor> grads;  // q, k, v, i, f [, c0, n0, m0]
};

// Gradients of <h, dh> (+ <c, dc> + <n, dn> + <m, dm>) with respect to the leaves.
std::vector<torch::Tensor> gradients(const Case& c, const Data& d, const std::vector<torch::Tensor>& leaves,
                                     const torch::Tensor& h, const torch::Tensor& cl, const torch::Tensor& nl,
                                     const torch::Tensor& ml) {
  std::vector<torch::Tensor> outs{h}, grads{d.dh.to(h.scalar_type())};
  if (c.last_grads) {
    outs.insert(outs.end(), {cl, nl, ml});
    for (const auto& g : {d.dc, d.dn, d.dm}) grads.push_back(g.to(cl.scalar_type()));
  }
  return torch::autograd::grad(outs, leaves, grads);
}

std::vector<torch::Tensor> leaves_of(const Case& c, const Data& d, torch::Dtype io, torch::Dtype state) {
  std::vector<torch::Tensor> x;
  for (const auto& t : {d.q, d.k, d.v}) x.push_back(t.to(io).detach().requires_grad_(true));
  for (const auto& t : {d.i, d.f}) x.push_back(t.to(state).detach().requires_grad_(true));
  if (c.init)
    for (const auto& t : {d.s0.C, d.s0.n, d.s0.m}) x.push_back(t.to(state).detach().requires_grad_(true));
  return x;
}

Result reference(const Case& c, const Data& d) {
  auto x = leaves_of(c, d, torch::kFloat64, torch::kFloat64);
  const mLSTMState s0 = c.init ? mLSTMState{x[5], x[6], x[7]} : mLSTMState{};
  mLSTMForwardStats stats;
  auto [h, last] = mlstm_chunkwise(x[0], x[1], x[2], x[3], x[4], s0, 64, kMlstmEps, &stats);
  Result r{h, stats.normalizer, stats.stabilizer, last.C, last.n, last.m, {}};
  r.grads = gradients(c, d, x, h, last.C, last.n, last.m);
  return r;
}

Result kernels(const Case& c, const Data& d) {
  auto x = leaves_of(c, d, c.dt, torch::kFloat32);
  auto opt = [&](size_t j) { return c.init ? ops::OptTensor(x[j]) : std::nullopt; };
  testing::poison_cuda_allocator(int64_t{1} << 30);
  auto [h, n_out, m_out, cl, nl, ml] =
      ops::mlstm_chunkwise_fw(x[0], x[1], x[2], x[3], x[4], opt(5), opt(6), opt(7), c.chunk, kMlstmEps);
  Result r{h, n_out, m_out, cl, nl, ml, {}};
  testing::poison_cuda_allocator(int64_t{1} << 30);
  r.grads = gradients(c, d, x, h, cl, nl, ml);
  return r;
}

void expect_match(const Case& c) {
  SCOPED_TRACE(c.name());
  const Data d = random_data(c);
  const Result want = reference(c, d);
  const Result got = kernels(c, d);
  const double tol = c.dt == torch::kFloat32 ? 1e-5 : 1e-2;
  EXPECT_EQ(got.h.scalar_type(), c.dt);
  XLSTM_EXPECT_CLOSE(got.h, want.h, tol);
  XLSTM_EXPECT_CLOSE(got.n_out, want.n_out, tol);
  XLSTM_EXPECT_CLOSE(got.m_out, want.m_out, tol);
  XLSTM_EXPECT_CLOSE(got.c, want.c, tol);
  XLSTM_EXPECT_CLOSE(got.n, want.n, tol);
  XLSTM_EXPECT_CLOSE(got.m, want.m, tol);
  const char* names[] = {"dq", "dk", "dv", "digate", "dfgate", "dc0", "dn0"};
  ASSERT_EQ(got.grads.size(), want.grads.size());
  for (size_t j = 0; j < std::min<size_t>(got.grads.size(), 7); ++j) {
    SCOPED_TRACE(names[j]);
    XLSTM_EXPECT_CLOSE(got.grads[j], want.grads[j], tol);
  }
  if (c.init) {
    // dm0 = <dC0, C0> + <dn0, n0> + (stabiliser path) is one number per head, and the normalisation
    // makes h nearly invariant to the scale of a dominant initial state, so the first two terms
    // nearly cancel: its error is measured against their size.
    const auto dims = std::vector<int64_t>{2, 3};
    auto scale = (want.grads[5] * d.s0.C.to(torch::kFloat64)).sum(dims).abs() +
                 (want.grads[6] * d.s0.n.to(torch::kFloat64)).sum(-1).abs() + want.grads[7].squeeze(-1).abs();
    auto err = (got.grads[7].to(torch::kFloat64) - want.grads[7]).squeeze(-1).abs() / scale;
    EXPECT_TRUE(torch::isfinite(got.grads[7]).all().item<bool>()) << "dm0";
    EXPECT_LE(err.max().item<double>(), tol) << "dm0 relative to its terms";
  }
}

const int64_t kDims[] = {64, 128, 256, 512};

TEST_F(CudaMlstmOps, AllHeadDimPairs) {
  torch::manual_seed(0);
  int idx = 0;
  for (int64_t dk : kDims)
    for (int64_t dv : kDims) {
      const torch::Dtype dt = idx % 2 ? torch::kBFloat16 : torch::kFloat32;
      expect_match({idx % 2 ? 3 : 1, (idx / 2) % 2 ? 4 : 1, 100, dk, dv, idx % 3 != 0, idx % 2 == 0, dt});
      ++idx;
    }
}

TEST_F(CudaMlstmOps, SequenceLengthsAndDtypes) {
  torch::manual_seed(1);
  const std::pair<int64_t, int64_t> dims[] = {{64, 64}, {128, 256}, {256, 512}, {512, 128}, {64, 512}, {512, 512}};
  int idx = 0;
  for (int64_t S : {1, 15, 64, 100, 1000, 4096})
    for (torch::Dtype dt : {torch::kFloat32, torch::kBFloat16, torch::kFloat16}) {
      const auto [dk, dv] = dims[idx % 6];
      const bool big = S >= 1000 && dk == 512 && dv == 512;
      // S = 1 without a history is degenerate (h = v sign(q.k) up to eps, so dq and dk are ~eps and their
      // relative error is rounding noise): S = 1 always starts from a state.
      const bool init = S == 1 || idx % 3 != 1;
      expect_match({big ? 1 : (idx % 2 ? 3 : 1), (idx / 2) % 2 ? 4 : 1, S, dk, dv, init, idx % 4 < 2, dt});
      ++idx;
    }
}

TEST_F(CudaMlstmOps, ChunkLengths) {
  torch::manual_seed(2);
  for (int64_t chunk : {64, 192, 256, 100})  // 100: not a kernel chunk, the kernels use 128
    for (torch::Dtype dt : {torch::kFloat32, torch::kBFloat16}) expect_match({2, 2, 1000, 256, 512, true, true, dt, chunk});
}

// Small cases for compute-sanitizer (memcheck, racecheck) in .ci/gpu_check.sh: the separate kernels
// (fp32, and bf16 with DQK 64) and the fused forward of sm_90 (bf16, DQK 128 and 256; chunks of 128 and
// 64), each with a partial last chunk.
TEST_F(CudaMlstmOps, SmallCaseForSanitizers) {
  torch::manual_seed(3);
  for (torch::Dtype dt : {torch::kFloat32, torch::kBFloat16}) expect_match({1, 2, 150, 64, 128, true, true, dt});
  for (int64_t chunk : {128, 64}) expect_match({1, 2, 150, 128, 128, true, true, torch::kBFloat16, chunk});
  expect_match({1, 1, 150, 256, 64, true, true, torch::kBFloat16});
}

TEST_F(CudaMlstmOps, LongSequencesStayFinite) {
  torch::manual_seed(4);
  const Case c{1, 2, 65536, 256, 512, false, false, torch::kBFloat16};
  Data d = random_data(c);
  d.q = torch::randn_like(d.q);  // no conditioning, wider gates: only finiteness is asked here
  d.k = torch::randn_like(d.k);
  d.i = d.i * 3.0;
  d.f = d.f * 3.0;
  const Result r = kernels(c, d);
  for (const auto& t : {r.h, r.n_out, r.m_out, r.c, r.n, r.m})
    EXPECT_TRUE(torch::isfinite(t.to(torch::kFloat32)).all().item<bool>());
  for (const auto& g : r.grads) EXPECT_TRUE(torch::isfinite(g.to(torch::kFloat32)).all().item<bool>());
}

TEST_F(CudaMlstmOps, StepMatchesReferenceAndUpdatesInPlace) {
  torch::manual_seed(5);
  auto o = torch::TensorOptions().device(torch::kCUDA);
  int idx = 0;
  for (torch::Dtype dt : {torch::kFloat32, torch::kBFloat16, torch::kFloat16})
    for (auto [dk, dv] : {std::pair<int64_t, int64_t>{64, 64}, {256, 512}, {512, 128}, {128, 512}}) {
      const int64_t B = idx % 2 ? 16 : 1, NH = 8;
      const bool fresh = idx % 3 == 0;
      SCOPED_TRACE(std::string(c10::toString(dt)) + " dq" + std::to_string(dk) + " dv" + std::to_string(dv));
      ++idx;
      auto q = (torch::randn({B, NH, dk}, o) + 1.0).to(dt), k = (torch::randn({B, NH, dk}, o) + 1.0).to(dt);
      auto v = torch::randn({B, NH, dv}, o).to(dt);
      auto i = torch::randn({B, NH}, o) * 10.0, f = torch::randn({B, NH}, o) * 4.0 + 3.0;
      auto c = torch::randn({B, NH, dk, dv}, o), n = torch::rand({B, NH, dk}, o) + 0.5;
      auto m = fresh ? torch::full({B, NH, 1}, -std::numeric_limits<float>::infinity(), o) : torch::randn({B, NH, 1}, o) * 3.0;
      if (fresh) {
        c.zero_();
        n.zero_();
      }
      auto d = [](const torch::Tensor& t) { return t.to(torch::kFloat64); };
      auto [h_ref, s_ref] = mlstm_step(d(q), d(k), d(v), d(i), d(f), {d(c), d(n), d(m)});
      testing::poison_cuda_allocator(int64_t{1} << 28);
      auto [h, c2, n2, m2] = ops::mlstm_step(q, k, v, i, f, c, n, m, kMlstmEps);
      const double tol = dt == torch::kFloat32 ? 1e-5 : 1e-2;
      EXPECT_EQ(h.scalar_type(), dt);
      XLSTM_EXPECT_CLOSE(h, h_ref, tol);
      XLSTM_EXPECT_CLOSE(c2, s_ref.C, 1e-5);  // fp32 state math
      XLSTM_EXPECT_CLOSE(n2, s_ref.n, 1e-5);
      XLSTM_EXPECT_CLOSE(m2, s_ref.m, 1e-6);
      auto ci = c.clone(), ni = n.clone(), mi = m.clone();
      auto h3 = ops::mlstm_step_(q, k, v, i, f, ci, ni, mi, kMlstmEps);
      EXPECT_TRUE(torch::equal(h3, h) && torch::equal(ci, c2) && torch::equal(ni, n2) && torch::equal(mi, m2));
    }
}

TEST_F(CudaMlstmOps, UnsupportedHeadDimsFallBackToTheReference) {
  torch::manual_seed(6);
  const Case c{2, 2, 70, 32, 48, true, true, torch::kFloat32};
  const Data d = random_data(c);
  const Result want = reference(c, d), got = kernels(c, d);
  XLSTM_EXPECT_CLOSE(got.h, want.h, 1e-5);
  for (size_t j = 0; j < got.grads.size(); ++j) XLSTM_EXPECT_CLOSE(got.grads[j], want.grads[j], 1e-5);
}

// Both model families' dispatch points run the ops on CUDA: the autograd node is the op's, the results
// equal the ATen formulations on the CPU, and one token without gradients takes the step op.
TEST_F(CudaMlstmOps, ModelDispatchRunsTheOps) {
  torch::manual_seed(7);
  const Case c{2, 2, 150, 64, 128, true, false, torch::kFloat32};
  const Data d = random_data(c);
  auto leaves = leaves_of(c, d, torch::kFloat32, torch::kFloat32);
  const mLSTMState s0{leaves[5], leaves[6], leaves[7]};
  auto cpu = [](const torch::Tensor& t) { return t.detach().cpu(); };
  const mLSTMState s0_cpu{cpu(s0.C), cpu(s0.n), cpu(s0.m)};
  large::mLSTMBackendConfig large_cfg;
  using Run = std::function<std::tuple<torch::Tensor, mLSTMState>(const std::vector<torch::Tensor>&,
                                                                 const mLSTMState&, bool)>;
  const std::pair<const char*, Run> families[] = {
      {"neurips", [](const std::vector<torch::Tensor>& x, const mLSTMState& s, bool step) {
         return run_mlstm_backend(step ? mLSTMBackend::step : mLSTMBackend::chunkwise, x[0], x[1], x[2], x[3], x[4], s,
                                  64, kMlstmEps);
       }},
      {"large", [&](const std::vector<torch::Tensor>& x, const mLSTMState& s, bool step) {
         return large::run_mlstm_kernel(step ? large::KernelKind::step : large::KernelKind::chunkwise, large_cfg, x[0],
                                        x[1], x[2], x[3], x[4], s, 64);
       }}};
  for (const auto& [name, run] : families) {
    SCOPED_TRACE(name);
    auto [h, last] = run(leaves, s0, false);
    ASSERT_TRUE(h.grad_fn());
    EXPECT_NE(h.grad_fn()->name().find("ChunkwiseFunction"), std::string::npos) << h.grad_fn()->name();
    std::vector<torch::Tensor> x_cpu;
    for (size_t j = 0; j < 5; ++j) x_cpu.push_back(cpu(leaves[j]));
    auto [h_cpu, last_cpu] = run(x_cpu, s0_cpu, false);
    XLSTM_EXPECT_CLOSE(h, h_cpu, 1e-5);
    XLSTM_EXPECT_CLOSE(last.C, last_cpu.C, 1e-5);
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> one, one_cpu;
    for (size_t j = 0; j < 5; ++j) {
      one.push_back(leaves[j].detach().narrow(2, 0, 1));
      one_cpu.push_back(x_cpu[j].narrow(2, 0, 1));
    }
    auto [h1, s1] = run(one, s0, true);
    auto [h1_cpu, s1_cpu] = run(one_cpu, s0_cpu, true);
    XLSTM_EXPECT_CLOSE(h1, h1_cpu, 1e-5);
    XLSTM_EXPECT_CLOSE(s1.C, s1_cpu.C, 1e-5);
  }
}

// The autograd path keeps the forward's chunk states (mlstm_chunkwise_fw_cached) and the backward reads
// them instead of recomputing them; both ways give the same gradients (up to the order of the fp64
// atomic sums), and a cache that does not fit the inputs is refused by name.
TEST_F(CudaMlstmOps, BackwardWithKeptChunkStatesEqualsRecomputation) {
  torch::manual_seed(8);
  for (torch::Dtype dt : {torch::kFloat32, torch::kBFloat16}) {
    const Case c{2, 2, 300, 128, 256, true, true, dt};
    SCOPED_TRACE(c.name());
    const Data d = random_data(c);
    auto x = leaves_of(c, d, c.dt, torch::kFloat32);
    for (auto& t : x) t = t.detach();  // the ops themselves, no autograd
    const ops::OptTensor c0 = x[5], n0 = x[6], m0 = x[7], dc = d.dc, dn = d.dn, dm = d.dm;
    auto [h, n_out, m_out, cl, nl, ml, chunk_states, chunk_n, chunk_m] =
        ops::mlstm_chunkwise_fw_cached(x[0], x[1], x[2], x[3], x[4], c0, n0, m0, 128, kMlstmEps);
    EXPECT_EQ(chunk_states.sizes(), (c10::IntArrayRef{2, 2, 3, 128, 256}));
    EXPECT_EQ(chunk_m.scalar_type(), torch::kFloat64);
    auto [h2, n_out2, m_out2, cl2, nl2, ml2] =
        ops::mlstm_chunkwise_fw(x[0], x[1], x[2], x[3], x[4], c0, n0, m0, 128, kMlstmEps);
    EXPECT_TRUE(torch::equal(h, h2) && torch::equal(cl, cl2));
    const auto bw = [&](const ops::OptTensor& s, const ops::OptTensor& n, const ops::OptTensor& m) {
      testing::poison_cuda_allocator(int64_t{1} << 30);
      return ops::mlstm_chunkwise_bw(d.dh, dc, dn, dm, x[0], x[1], x[2], x[3], x[4], c0, n0, m0, n_out, m_out, 128,
                                     kMlstmEps, s, n, m);
    };
    const auto kept = bw(chunk_states, chunk_n, chunk_m), recomputed = bw(std::nullopt, std::nullopt, std::nullopt);
    XLSTM_EXPECT_CLOSE(std::get<0>(kept), std::get<0>(recomputed), 1e-6);
    XLSTM_EXPECT_CLOSE(std::get<1>(kept), std::get<1>(recomputed), 1e-6);
    XLSTM_EXPECT_CLOSE(std::get<2>(kept), std::get<2>(recomputed), 1e-6);
    XLSTM_EXPECT_CLOSE(std::get<4>(kept), std::get<4>(recomputed), 1e-6);
    XLSTM_EXPECT_CLOSE(std::get<5>(kept), std::get<5>(recomputed), 1e-6);
    XLSTM_EXPECT_CLOSE(std::get<7>(kept), std::get<7>(recomputed), 1e-6);
    try {
      bw(chunk_states.narrow(2, 0, 2), chunk_n, chunk_m);
      ADD_FAILURE() << "expected an error";
    } catch (const c10::Error& e) {
      EXPECT_NE(std::string(e.what_without_backtrace()).find("chunk_states must be"), std::string::npos)
          << e.what_without_backtrace();
    }
  }
}

TEST_F(CudaMlstmOps, RejectsInputsOnDifferentDevices) {
  const Case c{1, 1, 10, 64, 64, false, false, torch::kFloat32};
  const Data d = random_data(c);
  try {
    ops::mlstm_chunkwise_fw(d.q, d.k, d.v.cpu(), d.i, d.f, std::nullopt, std::nullopt, std::nullopt, 64, kMlstmEps);
    ADD_FAILURE() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what_without_backtrace()).find("v is on cpu but q on cuda"), std::string::npos)
        << e.what_without_backtrace();
  }
}

}  // namespace
}  // namespace xlstm
