// Argument checks of the sLSTM ops: each message names the op, the argument and what it got.
#include <string>

#include "ops/slstm_ops.h"

namespace xlstm::ops::detail {
namespace {

void check_float(const char* op, const char* name, const torch::Tensor& t) {
  TORCH_CHECK(t.defined(), op, ": ", name, " is undefined");
  TORCH_CHECK(at::isFloatingType(t.scalar_type()), op, ": ", name, " must be a floating-point tensor, got ",
              t.scalar_type());
}

void check_same_device(const char* op, const char* name, const torch::Tensor& t, const torch::Tensor& wx) {
  TORCH_CHECK(t.device() == wx.device(), op, ": ", name, " is on ", t.device(), " but wx is on ", wx.device());
}

}  // namespace

void check_slstm_fw_args(const char* op, const torch::Tensor& wx, const torch::Tensor& R, const torch::Tensor& b,
                         const OptTensor& s0) {
  check_float(op, "wx", wx);
  TORCH_CHECK(wx.dim() == 5 && wx.size(3) == 4, op, ": wx must be (B, S, NH, 4, DH), got ", wx.sizes());
  TORCH_CHECK(wx.size(0) >= 1 && wx.size(1) >= 1 && wx.size(2) >= 1 && wx.size(4) >= 1, op,
              ": wx must have B, S, NH, DH >= 1, got ", wx.sizes());
  const int64_t batch = wx.size(0), heads = wx.size(2), head_dim = wx.size(4), hidden = heads * head_dim;
  check_float(op, "R", R);
  TORCH_CHECK(R.dim() == 3 && R.size(0) == heads && R.size(1) == head_dim && R.size(2) == 4 * head_dim, op,
              ": R must be (NH, DH, 4*DH) = (", heads, ", ", head_dim, ", ", 4 * head_dim, "), got ", R.sizes());
  check_float(op, "b", b);
  TORCH_CHECK(b.dim() == 1 && b.size(0) == 4 * hidden, op, ": b must be (4*NH*DH) = (", 4 * hidden, "), got ",
              b.sizes());
  check_same_device(op, "R", R, wx);
  check_same_device(op, "b", b, wx);
  if (s0) {
    check_float(op, "s0", *s0);
    TORCH_CHECK(s0->dim() == 3 && s0->size(0) == 4 && s0->size(1) == batch && s0->size(2) == hidden, op,
                ": s0 must be (4, B, NH*DH) = (4, ", batch, ", ", hidden, "), got ", s0->sizes());
    check_same_device(op, "s0", *s0, wx);
  }
}

void check_slstm_bw_args(const char* op, const torch::Tensor& dy, const OptTensor& dstate_last,
                         const torch::Tensor& wx, const torch::Tensor& R, const torch::Tensor& b, const OptTensor& s0,
                         const torch::Tensor& y) {
  check_slstm_fw_args(op, wx, R, b, s0);
  const std::vector<int64_t> y_shape{wx.size(0), wx.size(1), wx.size(2), wx.size(4)};
  check_float(op, "dy", dy);
  TORCH_CHECK(dy.sizes() == y_shape, op, ": dy must be (B, S, NH, DH) = ", c10::IntArrayRef(y_shape), ", got ",
              dy.sizes());
  check_float(op, "y", y);
  TORCH_CHECK(y.sizes() == y_shape, op, ": y must be (B, S, NH, DH) = ", c10::IntArrayRef(y_shape), ", got ",
              y.sizes());
  check_same_device(op, "dy", dy, wx);
  check_same_device(op, "y", y, wx);
  if (dstate_last) {
    check_float(op, "dstate_last", *dstate_last);
    TORCH_CHECK(dstate_last->dim() == 3 && dstate_last->size(0) == 4 && dstate_last->size(1) == wx.size(0) &&
                    dstate_last->size(2) == wx.size(2) * wx.size(4),
                op, ": dstate_last must be (4, B, NH*DH), got ", dstate_last->sizes());
    check_same_device(op, "dstate_last", *dstate_last, wx);
  }
}

}  // namespace xlstm::ops::detail
