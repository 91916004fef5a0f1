// Reference parameter initialisations (xlstm-spec.md §4).
#include "xlstm/components/init.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace xlstm {

void small_init_(torch::Tensor& p, int64_t dim) {
  TORCH_CHECK(dim > 0, "small_init_: dim must be positive, got ", dim);
  torch::NoGradGuard no_grad;
  p.normal_(0.0, std::sqrt(2.0 / (5.0 * static_cast<double>(dim))));
}

void wang_init_(torch::Tensor& p, int64_t dim, int64_t num_blocks) {
  TORCH_CHECK(dim > 0, "wang_init_: dim must be positive, got ", dim);
  TORCH_CHECK(num_blocks > 0, "wang_init_: num_blocks must be positive, got ", num_blocks);
  torch::NoGradGuard no_grad;
  p.normal_(0.0, 2.0 / static_cast<double>(num_blocks) / std::sqrt(static_cast<double>(dim)));
}

void bias_linspace_init_(torch::Tensor& p, double start, double end) {
  TORCH_CHECK(p.dim() == 1, "bias_linspace_init_: expected a 1-D tensor, got shape ", p.sizes());
  torch::NoGradGuard no_grad;
  p.copy_(torch::linspace(start, end, p.size(0), torch::kFloat64));
}

void powerlaw_blockdependent_init_(torch::Tensor& p, int64_t block_idx, int64_t num_blocks) {
  TORCH_CHECK(p.dim() >= 1, "powerlaw_blockdependent_init_: expected at least 1 dimension");
  const int64_t head_dim = p.size(-1);
  if (head_dim < 2)
    throw std::invalid_argument("powerlaw_blockdependent bias init needs head_dim >= 2, got " +
                                std::to_string(head_dim));
  const double ratio = num_blocks > 1 ? static_cast<double>(block_idx) / static_cast<double>(num_blocks - 1) : 0.0;
  const auto j = torch::arange(head_dim, torch::kFloat64) / static_cast<double>(head_dim - 1);
  const auto values = -(-5.0 + 12.0 * j.pow(0.3 + 1.3 * ratio));
  torch::NoGradGuard no_grad;
  p.copy_(values);
}

}  // namespace xlstm
