// ATen reference of the sLSTM recurrence: time loop, per-head recurrent matmul, pointwise update.
#include "xlstm/slstm/slstm_reference.h"

#include <vector>

namespace xlstm {

std::tuple<torch::Tensor, torch::Tensor> slstm_forward_reference(const torch::Tensor& wx, const torch::Tensor& R,
                                                                  const torch::Tensor& b, const torch::Tensor& s0) {
  TORCH_CHECK(wx.dim() == 5 && wx.size(3) == 4 && wx.size(1) >= 1,
              "slstm_forward_reference: wx must be (B, S, NH, 4, DH) with S >= 1, got ", wx.sizes());
  const int64_t batch = wx.size(0), seq = wx.size(1), heads = wx.size(2), head_dim = wx.size(4);
  const int64_t hidden = heads * head_dim;
  TORCH_CHECK(R.dim() == 3 && R.size(0) == heads && R.size(1) == head_dim && R.size(2) == 4 * head_dim,
              "slstm_forward_reference: R must be (NH, DH, 4*DH) = (", heads, ", ", head_dim, ", ", 4 * head_dim,
              "), got ", R.sizes());
  TORCH_CHECK(b.dim() == 1 && b.size(0) == 4 * hidden, "slstm_forward_reference: b must be (", 4 * hidden,
              "), got ", b.sizes());
  if (s0.defined())
    TORCH_CHECK(s0.dim() == 3 && s0.size(0) == 4 && s0.size(1) == batch && s0.size(2) == hidden,
                "slstm_forward_reference: s0 must be (4, ", batch, ", ", hidden, "), got ", s0.sizes());

  const bool any_double = wx.scalar_type() == torch::kFloat64 || R.scalar_type() == torch::kFloat64 ||
                    b.scalar_type() == torch::kFloat64 || (s0.defined() && s0.scalar_type() == torch::kFloat64);
  const auto dtype = any_double ? torch::kFloat64 : torch::kFloat32;

  const auto Rf = R.to(dtype);                                // (NH, DH, 4DH)
  const auto bf = b.to(dtype).view({1, heads, 4, head_dim});  // broadcast over batch
  const auto wxf = wx.to(dtype);
  const auto init = s0.defined() ? s0.to(dtype).reshape({4, batch, heads, head_dim})
                                 : torch::zeros({4, batch, heads, head_dim}, wx.options().dtype(dtype));
  auto y = init[0], c = init[1], n = init[2], m = init[3];  // (B, NH, DH) each

  std::vector<torch::Tensor> ys;
  ys.reserve(seq);
  for (int64_t t = 0; t < seq; ++t) {
    // Ry[b, h, g, j] = Σ_d y[b, h, d] · R[h, d, g·DH + j]: (NH, B, DH) @ (NH, DH, 4DH)
    const auto ry = torch::bmm(y.transpose(0, 1), Rf).transpose(0, 1).view({batch, heads, 4, head_dim});
    const auto raw = wxf.select(1, t) + ry + bf;
    const auto iraw = raw.select(2, 0), fraw = raw.select(2, 1), zraw = raw.select(2, 2), oraw = raw.select(2, 3);

    const auto logfplusm = m + torch::log_sigmoid(fraw);
    const auto m_new = torch::where(n == 0, iraw, torch::maximum(iraw, logfplusm));
    // clamp_max (not minimum) so that the gradient passes unchanged where the clamp is inactive.
    const auto igate = torch::exp(iraw - m_new).clamp_max(1.0);
    const auto fgate = torch::exp(logfplusm - m_new).clamp_max(1.0);
    const auto ogate = torch::sigmoid(oraw).clamp_max(1.0);
    c = fgate * c + igate * torch::tanh(zraw);
    n = fgate * n + igate;
    y = ogate * c / n;
    m = m_new;
    ys.push_back(y);
  }
  auto y_all = torch::stack(ys, 1);  // (B, S, NH, DH)
  auto state = torch::stack({y, c, n, m}, 0).view({4, batch, hidden});
  return {y_all.to(wx.scalar_type()), state};
}

}  // namespace xlstm
