// The fused layer kernels (kernels/mlstm/conv_qkv.cuh, norm_skip_gate.cuh), the layer norm
// (kernels/norm/layer_norm.cuh) and the loss kernels (kernels/loss/cross_entropy.cuh) run on the CPU through
// kernel_simulation.h, against the ATen implementation of their ops: outputs and every gradient, fp32
// and bf16, several shapes and CTA splits (including CTAs with idle threads and token ranges that
// cut a sequence), strided inputs, with and without biases and dc. Built where the CUDA headers are
// (XLSTM_WITH_CUDA); runs without a GPU, so CI tests the kernels' logic.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "testing.h"
#include "xlstm/ops.h"

#include "kernel_simulation.h"
#define __cvta_generic_to_shared(p) 0u
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wattributes"
#include "loss/cross_entropy.cuh"
#include "mlstm/conv_qkv.cuh"
#include "mlstm/norm_skip_gate.cuh"
#include "norm/layer_norm.cuh"
#pragma GCC diagnostic pop

namespace xlstm {
namespace {

namespace K = xlstm::kernels;
namespace sim = xlstm::testing::simulation;
using ops::OptTensor;

OptTensor opt(const torch::Tensor& t) { return t.defined() ? OptTensor(t) : std::nullopt; }
K::TokenTensor tokens(const torch::Tensor& t) { return {t.data_ptr(), t.stride(0), t.stride(1)}; }
const float* fptr(const torch::Tensor& t) { return t.defined() ? t.data_ptr<float>() : nullptr; }

struct ConvQkvCase {
  int B, S, D, tokens_per_cta;
  bool bias, dc;
  torch::Dtype dt;
};

void simulate_conv_qkv(const ConvQkvCase& k) {
  const bool bf16 = k.dt == torch::kBFloat16;
  const int NB = k.D / 4;
  const auto x = torch::randn({k.B, k.S, 2 * k.D}).to(k.dt).narrow(2, k.D, k.D);  // strided rows
  const auto cw = torch::randn({k.D, 1, 4}) * 0.5, cb = torch::randn({k.D}) * 0.2;
  const auto wq = torch::randn({NB, 4, 4}) * 0.5, wk = torch::randn({NB, 4, 4}) * 0.5,
             wv = torch::randn({NB, 4, 4}) * 0.5;
  torch::Tensor bq, bk, bv;
  if (k.bias) bq = torch::randn({k.D}) * 0.1, bk = torch::randn({k.D}) * 0.1, bv = torch::randn({k.D}) * 0.1;
  K::ConvQkvParams p;
  p.B = k.B, p.S = k.S, p.D = k.D, p.tokens_per_cta = k.tokens_per_cta;
  p.grid_x = k.B * ((k.S + k.tokens_per_cta - 1) / k.tokens_per_cta);
  p.x = tokens(x);
  p.conv_w = fptr(cw), p.conv_b = fptr(cb), p.wq = fptr(wq), p.wk = fptr(wk), p.wv = fptr(wv);
  p.bq = fptr(bq), p.bk = fptr(bk), p.bv = fptr(bv);
  const auto nan = [&] { return torch::full({k.B, k.S, k.D}, NAN).to(k.dt); };
  const auto c = nan(), q = nan(), kk = nan(), v = nan();
  p.c = c.data_ptr(), p.q = q.data_ptr(), p.k = kk.data_ptr(), p.v = v.data_ptr();
  const sim::Dim grid{static_cast<unsigned>(p.grid_x),
                      static_cast<unsigned>((k.D + K::kConvQkvThreads - 1) / K::kConvQkvThreads), 1};
  p.dtype = bf16 ? K::DType::bf16 : K::DType::f32;
  sim::launch(grid, K::kConvQkvThreads, [&] { bf16 ? K::conv_qkv_fw_kernel<__nv_bfloat16>(p) : K::conv_qkv_fw_kernel<float>(p); });
  const auto want = ops::mlstm_conv_qkv(x, cw, cb, wq, wk, wv, opt(bq), opt(bk), opt(bv));
  const double tol = k.dt == torch::kFloat32 ? 1e-5 : 1e-2;
  XLSTM_EXPECT_CLOSE(c, std::get<0>(want), tol);
  XLSTM_EXPECT_CLOSE(q, std::get<1>(want), tol);
  XLSTM_EXPECT_CLOSE(kk, std::get<2>(want), tol);
  XLSTM_EXPECT_CLOSE(v, std::get<3>(want), tol);

  const auto dc = torch::randn({k.B, k.S, k.D}).to(k.dt), dq = torch::randn({k.B, k.S, k.D}).to(k.dt),
             dk = torch::randn({k.B, k.S, k.D}).to(k.dt), dv = torch::randn({k.B, k.S, k.D}).to(k.dt);
  if (k.dc) p.dc = tokens(dc);
  p.dq = tokens(dq), p.dk = tokens(dk), p.dv = tokens(dv);
  const auto dx = nan();
  const auto partial = torch::full({p.grid_x, k.D, K::kConvQkvGrads}, NAN);
  p.dx = dx.data_ptr(), p.partial = partial.data_ptr<float>();
  sim::launch(grid, K::kConvQkvThreads, [&] { bf16 ? K::conv_qkv_bw_kernel<__nv_bfloat16>(p) : K::conv_qkv_bw_kernel<float>(p); });
  const auto ref = ops::mlstm_conv_qkv_bw(k.dc ? opt(dc) : std::nullopt, dq, dk, dv, x, cw, cb, wq, wk, wv, opt(bq),
                                          opt(bk), opt(bv));
  const auto g = partial.sum(0);
  // Per channel 4j + i: dwq, dwk, dwv [j][o][i] by o, dconv_w [k], dconv_b, dbq, dbk, dbv.
  const auto part = [&](int64_t at, int64_t n) { return g.narrow(1, at, n); };
  const auto block = [&](int64_t at) { return part(at, 4).reshape({NB, 4, 4}).transpose(1, 2); };
  XLSTM_EXPECT_CLOSE(dx, std::get<0>(ref), tol);
  XLSTM_EXPECT_CLOSE(part(12, 4).reshape({k.D, 1, 4}), std::get<1>(ref), tol);
  XLSTM_EXPECT_CLOSE(part(16, 1).reshape({k.D}), std::get<2>(ref), tol);
  XLSTM_EXPECT_CLOSE(block(0), std::get<3>(ref), tol);
  XLSTM_EXPECT_CLOSE(block(4), std::get<4>(ref), tol);
  XLSTM_EXPECT_CLOSE(block(8), std::get<5>(ref), tol);
  if (k.bias) {
    XLSTM_EXPECT_CLOSE(part(17, 1).reshape({k.D}), std::get<6>(ref), tol);
    XLSTM_EXPECT_CLOSE(part(18, 1).reshape({k.D}), std::get<7>(ref), tol);
    XLSTM_EXPECT_CLOSE(part(19, 1).reshape({k.D}), std::get<8>(ref), tol);
  }
}

TEST(SimulatedKernels, ConvQkvMatchesTheReference) {
  torch::manual_seed(0);
  for (const auto& k : {ConvQkvCase{1, 1, 16, 8, false, true, torch::kFloat32},
                        ConvQkvCase{2, 3, 64, 8, true, true, torch::kFloat32},
                        ConvQkvCase{2, 37, 520, 5, true, false, torch::kFloat32},
                        ConvQkvCase{2, 50, 32, 1, true, true, torch::kFloat32},
                        ConvQkvCase{2, 40, 64, 9, true, true, torch::kBFloat16},
                        ConvQkvCase{1, 45, 32, 20, true, true, torch::kBFloat16}}) {  // 2.5 look-ahead groups
    std::ostringstream name;
    name << "B" << k.B << " S" << k.S << " D" << k.D << " tokens/CTA " << k.tokens_per_cta << (k.bias ? " bias" : "")
         << (k.dc ? " dc " : " ") << c10::toString(k.dt);
    SCOPED_TRACE(name.str());
    simulate_conv_qkv(k);
  }
}

struct NormCase {
  int B, S, NH, DH, grid_rows;
  torch::Dtype dt;
};

using NormKernel = void (*)(K::NormSkipGateParams);

// fw, bw: the kernels' instances for k's dtype and head dim.
void simulate_norm_skip_gate(const NormCase& k, NormKernel fw, NormKernel bw) {
  const int Di = k.NH * k.DH;
  const auto h = (torch::randn({k.B, k.NH, k.S, k.DH}) * 2 + 0.5).to(k.dt);
  const auto c = torch::randn({k.B, Di, k.S}).to(k.dt).transpose(1, 2).contiguous();
  const auto z = (torch::randn({k.B, k.S, 2 * Di}) * 2).to(k.dt).narrow(2, Di, Di);  // strided rows
  const auto w = torch::randn({Di}) * 0.3, sk = 1 + torch::randn({Di}) * 0.3;
  K::NormSkipGateParams p;
  p.B = k.B, p.S = k.S, p.NH = k.NH, p.DH = k.DH, p.eps = 1e-5f, p.grid_rows = k.grid_rows;
  p.h = h.data_ptr(), p.c = c.data_ptr(), p.z = z.data_ptr(), p.c_row = c.stride(1), p.z_row = z.stride(1);
  p.norm_weight = w.data_ptr<float>(), p.skip = sk.data_ptr<float>();
  const auto y = torch::full({k.B, k.S, Di}, NAN).to(k.dt), mean = torch::full({k.B, k.S, k.NH}, NAN),
             rstd = mean.clone();
  p.y = y.data_ptr(), p.mean = mean.data_ptr<float>(), p.rstd = rstd.data_ptr<float>();
  const sim::Dim grid{static_cast<unsigned>(k.grid_rows), static_cast<unsigned>(k.NH), 1};
  sim::launch(grid, K::kWarps * 32, [&] { fw(p); });
  const auto [y_ref, mean_ref, rstd_ref] = ops::mlstm_norm_skip_gate(h, c, z, w, sk, 1e-5);
  const double tol = k.dt == torch::kFloat32 ? 1e-5 : 1e-2;
  XLSTM_EXPECT_CLOSE(y, y_ref, tol);
  XLSTM_EXPECT_CLOSE(mean, mean_ref, 1e-5);
  XLSTM_EXPECT_CLOSE(rstd, rstd_ref, 1e-5);

  const auto dy = torch::randn({k.B, k.S, Di}).to(k.dt);
  const auto dh = torch::full_like(h, NAN), dc = torch::full_like(c, NAN), dz = torch::full({k.B, k.S, Di}, NAN).to(k.dt);
  const auto partial = torch::full({k.grid_rows, 2, Di}, NAN);
  p.dy = dy.data_ptr(), p.dh = dh.data_ptr(), p.dc = dc.data_ptr(), p.dz = dz.data_ptr();
  p.dc_row = dc.stride(1), p.dz_row = dz.stride(1), p.partial = partial.data_ptr<float>();
  sim::launch(grid, K::kWarps * 32, [&] { bw(p); });
  const auto [dh_ref, dc_ref, dz_ref, dw_ref, ds_ref] =
      ops::mlstm_norm_skip_gate_bw(dy, h, c, z, w, sk, mean_ref, rstd_ref);
  const auto sums = partial.sum(0);
  XLSTM_EXPECT_CLOSE(dh, dh_ref, tol);
  XLSTM_EXPECT_CLOSE(dc, dc_ref, tol);
  XLSTM_EXPECT_CLOSE(dz, dz_ref, tol);
  XLSTM_EXPECT_CLOSE(sums[0], dw_ref, tol);
  XLSTM_EXPECT_CLOSE(sums[1], ds_ref, tol);
}

TEST(SimulatedKernels, NormSkipGateMatchesTheReference) {
  torch::manual_seed(1);
  const auto trace = [](const NormCase& k) {
    std::ostringstream name;
    name << "B" << k.B << " S" << k.S << " NH" << k.NH << " DH" << k.DH << " CTAs " << k.grid_rows << " "
         << c10::toString(k.dt);
    return name.str();
  };
  const NormCase small{1, 3, 2, 16, 1, torch::kFloat32}, odd{2, 7, 4, 100, 3, torch::kFloat32},
      dh384{2, 9, 4, 384, 2, torch::kFloat32}, dh768{1, 5, 2, 768, 1, torch::kFloat32},
      bf16{2, 11, 4, 384, 3, torch::kBFloat16};
  {
    SCOPED_TRACE(trace(small));
    simulate_norm_skip_gate(small, &K::norm_skip_gate_fw_kernel<float, 1>, &K::norm_skip_gate_bw_kernel<float, 1>);
  }
  {
    SCOPED_TRACE(trace(odd));
    simulate_norm_skip_gate(odd, &K::norm_skip_gate_fw_kernel<float, 1>, &K::norm_skip_gate_bw_kernel<float, 1>);
  }
  {
    SCOPED_TRACE(trace(dh384));
    simulate_norm_skip_gate(dh384, &K::norm_skip_gate_fw_kernel<float, 3>, &K::norm_skip_gate_bw_kernel<float, 3>);
  }
  {
    SCOPED_TRACE(trace(dh768));
    simulate_norm_skip_gate(dh768, &K::norm_skip_gate_fw_kernel<float, 6>, &K::norm_skip_gate_bw_kernel<float, 6>);
  }
  {
    SCOPED_TRACE(trace(bf16));
    simulate_norm_skip_gate(bf16, &K::norm_skip_gate_fw_kernel<__nv_bfloat16, 3>, &K::norm_skip_gate_bw_kernel<__nv_bfloat16, 3>);
  }
}

struct CrossEntropyCase {
  int64_t rows, vocab;
  torch::Dtype dt;
};

void simulate_cross_entropy(const CrossEntropyCase& k) {
  const bool bf16 = k.dt == torch::kBFloat16;
  // Strided rows, a few ignored targets (-1), values that make the stabiliser matter.
  const auto logits = (torch::randn({k.rows, k.vocab + 5}) * 8).to(k.dt).narrow(1, 2, k.vocab);
  auto targets = torch::randint(k.vocab, {k.rows}, torch::kLong);
  targets.index_put_({torch::arange(0, k.rows, 3)}, -1);
  K::CrossEntropyParams p;
  p.dtype = bf16 ? K::DType::bf16 : K::DType::f32;
  p.rows = k.rows, p.vocab = k.vocab, p.row_stride = logits.stride(0), p.ignore_index = -1;
  p.logits = logits.data_ptr(), p.targets = targets.data_ptr<int64_t>();
  const auto loss = torch::full({k.rows}, NAN), lse = torch::full({k.rows}, NAN);
  const auto predicted = torch::full({k.rows}, 12345, torch::kLong);
  p.loss = loss.data_ptr<float>(), p.lse = lse.data_ptr<float>(), p.predicted = predicted.data_ptr<int64_t>();
  const sim::Dim grid{static_cast<unsigned>((k.rows + K::kCrossEntropyWarps - 1) / K::kCrossEntropyWarps), 1, 1};
  const unsigned threads = K::kCrossEntropyWarps * 32;
  sim::launch(grid, threads, [&] {
    bf16 ? K::cross_entropy_fw_kernel<__nv_bfloat16>(p) : K::cross_entropy_fw_kernel<float>(p);
  });
  const auto [loss_ref, lse_ref, predicted_ref] = ops::cross_entropy_rows(logits, targets, -1);
  XLSTM_EXPECT_CLOSE(loss, loss_ref, 1e-6);
  XLSTM_EXPECT_CLOSE(lse, lse_ref, 1e-6);
  EXPECT_TRUE(predicted.equal(predicted_ref)) << predicted << predicted_ref;

  const auto dloss = torch::randn({k.rows});
  const auto dlogits = torch::full({k.rows, k.vocab}, NAN).to(k.dt);
  p.dloss = dloss.data_ptr<float>(), p.dlogits = dlogits.data_ptr();
  sim::launch(grid, threads, [&] {
    bf16 ? K::cross_entropy_bw_kernel<__nv_bfloat16>(p) : K::cross_entropy_bw_kernel<float>(p);
  });
  XLSTM_EXPECT_CLOSE(dlogits, ops::cross_entropy_rows_bw(dloss, logits, targets, lse_ref, -1), bf16 ? 1e-2 : 1e-6);
}

TEST(SimulatedKernels, CrossEntropyMatchesTheReference) {
  torch::manual_seed(2);
  // Rows that leave warps of the last CTA idle; vocabularies below, at and above one lane per element.
  for (const auto& k : {CrossEntropyCase{3, 1, torch::kFloat32}, CrossEntropyCase{11, 3, torch::kFloat32},
                        CrossEntropyCase{9, 32, torch::kFloat32}, CrossEntropyCase{5, 77, torch::kFloat32},
                        CrossEntropyCase{10, 300, torch::kBFloat16}}) {
    SCOPED_TRACE("rows " + std::to_string(k.rows) + " vocab " + std::to_string(k.vocab) + " " +
                 c10::toString(k.dt));
    simulate_cross_entropy(k);
  }
}

struct LayerNormCase {
  int64_t rows;
  int E, grid_rows;
  torch::Dtype x, y;
  bool weight, bias;
};

using LayerNormKernel = void (*)(K::LayerNormParams);

// fw, bw: the kernels' instances for k's dtypes and width.
void simulate_layer_norm(const LayerNormCase& k, LayerNormKernel fw, LayerNormKernel bw) {
  const auto x = (torch::randn({k.rows, k.E}) * 2 + 0.7).to(k.x);
  const auto w = torch::randn({k.E}) * 0.3, b = torch::randn({k.E}) * 0.2;
  const auto weight = k.weight ? ops::OptTensor(w) : std::nullopt, bias = k.bias ? ops::OptTensor(b) : std::nullopt;
  K::LayerNormParams p;
  p.x_dtype = k.x == torch::kFloat32 ? K::DType::f32 : K::DType::bf16;
  p.y_dtype = k.y == torch::kFloat32 ? K::DType::f32 : K::DType::bf16;
  p.rows = k.rows, p.E = k.E, p.eps = 1e-5f, p.weight_offset = 1.f, p.grid_rows = k.grid_rows;
  p.x = x.data_ptr(), p.weight = k.weight ? w.data_ptr<float>() : nullptr, p.bias = k.bias ? b.data_ptr<float>() : nullptr;
  const auto y = torch::full({k.rows, k.E}, NAN).to(k.y), mean = torch::full({k.rows}, NAN), rstd = mean.clone();
  p.y = y.data_ptr(), p.mean = mean.data_ptr<float>(), p.rstd = rstd.data_ptr<float>();
  const sim::Dim grid{static_cast<unsigned>(k.grid_rows), 1, 1};
  sim::launch(grid, K::kLnWarps * 32, [&] { fw(p); });
  const auto [y_ref, mean_ref, rstd_ref] = ops::layer_norm(x, weight, bias, 1.0, 1e-5, k.y);
  const double tol = k.y == torch::kFloat32 ? 1e-5 : 1e-2;
  XLSTM_EXPECT_CLOSE(y, y_ref, tol);
  XLSTM_EXPECT_CLOSE(mean, mean_ref, 1e-5);
  XLSTM_EXPECT_CLOSE(rstd, rstd_ref, 1e-5);

  const auto dy = torch::randn({k.rows, k.E}).to(k.y);
  const auto dx = torch::full_like(x, NAN), partial = torch::full({k.grid_rows, k.E}, NAN);
  p.dy = dy.data_ptr(), p.dx = dx.data_ptr(), p.partial = partial.data_ptr<float>();
  sim::launch(grid, K::kLnWarps * 32, [&] { bw(p); });
  const auto [dx_ref, dw_ref, db_ref] = ops::layer_norm_bw(dy, x, weight, bias, 1.0, mean_ref, rstd_ref);
  XLSTM_EXPECT_CLOSE(dx, dx_ref, k.x == torch::kFloat32 ? tol : 1e-2);
  if (k.weight) XLSTM_EXPECT_CLOSE(partial.sum(0), dw_ref, tol);
}

TEST(SimulatedKernels, LayerNormMatchesTheReference) {
  torch::manual_seed(3);
  using F = float;
  using H = __nv_bfloat16;
  // Lanes without channels (E 8), a group cut short (E 200), the 164M model's width; CTAs with idle
  // warps and rows that do not divide evenly; every dtype pair the models use.
  const struct {
    LayerNormCase k;
    LayerNormKernel fw, bw;
  } cases[] = {
      {{1, 8, 1, torch::kFloat32, torch::kFloat32, true, false}, &K::layer_norm_fw_kernel<F, F, 1>,
       &K::layer_norm_bw_kernel<F, F, 1>},
      {{37, 200, 3, torch::kFloat32, torch::kFloat32, true, true}, &K::layer_norm_fw_kernel<F, F, 2>,
       &K::layer_norm_bw_kernel<F, F, 2>},
      {{19, 768, 2, torch::kFloat32, torch::kBFloat16, true, false}, &K::layer_norm_fw_kernel<F, H, 6>,
       &K::layer_norm_bw_kernel<F, H, 6>},
      {{10, 64, 4, torch::kBFloat16, torch::kBFloat16, false, true}, &K::layer_norm_fw_kernel<H, H, 1>,
       &K::layer_norm_bw_kernel<H, H, 1>},
  };
  for (const auto& c : cases) {
    std::ostringstream name;
    name << "rows " << c.k.rows << " E " << c.k.E << " CTAs " << c.k.grid_rows << " " << c10::toString(c.k.x)
         << " -> " << c10::toString(c.k.y) << (c.k.weight ? " weight" : "") << (c.k.bias ? " bias" : "");
    SCOPED_TRACE(name.str());
    simulate_layer_norm(c.k, c.fw, c.bw);
  }
}

}  // namespace
}  // namespace xlstm
