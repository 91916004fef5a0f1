// Block-diagonal ("head-wise") linear map, the reference's LinearHeadwiseExpand (xlstm-spec.md §2.1):
// the input (..., I) is split into NH heads of I/NH features, each mapped by its own (O/NH × I/NH)
// matrix:  y[..., h, o] = Σ_d x[..., h, d] · W[h, o, d]  (+ bias[h·O/NH + o]),  O = round(f · I).
// Dense equivalent: W_dense[h·O/NH + o, h·I/NH + d] = W[h, o, d].
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace xlstm {

class LinearHeadwiseExpandImpl : public torch::nn::Module {
 public:
  // Throws std::invalid_argument unless 0 < num_heads <= in_features, in_features % num_heads == 0
  // and num_heads divides the output width.
  LinearHeadwiseExpandImpl(int64_t in_features, int64_t num_heads, double expand_factor_up = 1.0, bool bias = true);

  // Reference init: weight N(0, 2 / (5 · I/NH)), bias zeros.
  void reset_parameters();

  // x (..., I) -> (..., O).
  torch::Tensor forward(const torch::Tensor& x);

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }
  int64_t num_heads() const { return num_heads_; }

  torch::Tensor weight;  // (NH, O/NH, I/NH)
  torch::Tensor bias;    // (O), undefined without bias

 private:
  int64_t in_features_, num_heads_, out_features_;
};
TORCH_MODULE(LinearHeadwiseExpand);

}  // namespace xlstm
