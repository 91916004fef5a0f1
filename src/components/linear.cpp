// Linear layer with caller-chosen tensor options.
#include "xlstm/components/linear.h"

#include <cmath>

namespace xlstm {

LinearImpl::LinearImpl(int64_t in_features, int64_t out_features, bool bias, const torch::TensorOptions& options)
    : in_features_(in_features) {
  TORCH_CHECK(in_features > 0 && out_features > 0, "Linear: in_features and out_features must be positive, got ",
              in_features, " and ", out_features);
  weight = register_parameter("weight", torch::empty({out_features, in_features}, options));
  if (bias) this->bias = register_parameter("bias", torch::empty({out_features}, options));
  reset_parameters();
}

void LinearImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features_));
  weight.uniform_(-bound, bound);
  if (bias.defined()) bias.uniform_(-bound, bound);
}

torch::Tensor LinearImpl::forward(const torch::Tensor& x) {
  return torch::nn::functional::linear(x, weight, bias);
}

}  // namespace xlstm
