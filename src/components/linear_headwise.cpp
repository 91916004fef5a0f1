// Block-diagonal linear map as one batched matmul over heads.
#include "xlstm/components/linear_headwise.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "xlstm/components/init.h"

namespace xlstm {

LinearHeadwiseExpandImpl::LinearHeadwiseExpandImpl(int64_t in_features, int64_t num_heads, double expand_factor_up,
                                                   bool bias)
    : in_features_(in_features), num_heads_(num_heads) {
  const std::string where = "LinearHeadwiseExpand(in_features=" + std::to_string(in_features) +
                            ", num_heads=" + std::to_string(num_heads) + "): ";
  if (num_heads <= 0 || num_heads > in_features)
    throw std::invalid_argument(where + "num_heads must satisfy 0 < num_heads <= in_features");
  if (in_features % num_heads != 0)
    throw std::invalid_argument(where + "num_heads must divide in_features");
  out_features_ = static_cast<int64_t>(std::nearbyint(expand_factor_up * static_cast<double>(in_features)));  // Python round(): half to even
  if (out_features_ <= 0 || out_features_ % num_heads != 0)
    throw std::invalid_argument(where + "out_features " + std::to_string(out_features_) +
                                " (expand_factor_up " + std::to_string(expand_factor_up) +
                                ") must be a positive multiple of num_heads");
  weight = register_parameter("weight", torch::empty({num_heads, out_features_ / num_heads, in_features / num_heads}));
  if (bias) this->bias = register_parameter("bias", torch::empty({out_features_}));
  reset_parameters();
}

void LinearHeadwiseExpandImpl::reset_parameters() {
  small_init_(weight, weight.size(-1));
  if (bias.defined()) {
    torch::NoGradGuard no_grad;
    bias.zero_();
  }
}

torch::Tensor LinearHeadwiseExpandImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() >= 1 && x.size(-1) == in_features_, "LinearHeadwiseExpand: expected input (..., ",
              in_features_, "), got ", x.sizes());
  auto out_shape = x.sizes().vec();
  out_shape.back() = out_features_;
  const int64_t head_in = in_features_ / num_heads_;
  // (N, NH, I/NH) -> (NH, N, I/NH) @ (NH, I/NH, O/NH) -> (NH, N, O/NH) -> (N, NH, O/NH)
  const auto xh = x.reshape({-1, num_heads_, head_in}).transpose(0, 1);
  auto y = torch::bmm(xh, weight.transpose(1, 2)).transpose(0, 1).reshape(out_shape);
  if (bias.defined()) y = y + bias;
  return y;
}

}  // namespace xlstm
