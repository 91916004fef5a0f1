// Normalisation layers of both families (xlstm-spec.md §2.1, §6.2).
//
// NeurIPS family (LayerNorm, MultiHeadLayerNorm): the parameter `weight` is stored as an offset,
// initialised to 0, and the effective scale is 1 + weight; eps 1e-5; F.layer_norm / F.group_norm
// (biased variance; on bf16 inputs ATen accumulates in fp32 and returns bf16).
// xLSTM-Large (RMSNorm, large::MultiHeadLayerNorm): plain `weight` initialised to 1, eps 1e-6;
// with force_float32_reductions the normalisation runs in fp32 and is cast back to the input dtype
// before weight and bias are applied (in the input dtype).
// Every forward returns its input's dtype (parameters are cast to it), except a LayerNorm told that
// a Linear consumes it (feeds_linear): under CUDA autocast it returns an fp32 input normalised in the
// autocast dtype, the cast the Linear would apply done in the norm's own pass. On CUDA LayerNorm runs
// xlstm::layer_norm (one kernel each way). The xLSTM-Large norms create their parameters with the given
// tensor options (dtype, device, meta).
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace xlstm {

class LayerNormImpl : public torch::nn::Module {
 public:
  LayerNormImpl(int64_t ndim, bool weight = true, bool bias = false, double eps = 1e-5);
  void reset_parameters();  // weight 0 (scale 1), bias 0
  torch::Tensor forward(const torch::Tensor& x);  // over the last dim, x (..., ndim)
  double eps() const { return eps_; }
  // The blocks set this on the norms whose output only a Linear reads (see above).
  void feeds_linear(bool on) { feeds_linear_ = on; }

  torch::Tensor weight, bias;  // (ndim) each; undefined when disabled

 protected:
  torch::Tensor scale(const torch::Tensor& like) const;  // 1 + weight in like's dtype, or undefined
  int64_t ndim_;
  double eps_;

 private:
  bool feeds_linear_ = false;
};
TORCH_MODULE(LayerNorm);

// Per-head layer norm as a group norm with NH groups: x (B, NH, S, DH) -> (B, S, NH·DH), ndim = NH·DH.
class MultiHeadLayerNormImpl : public LayerNormImpl {
 public:
  using LayerNormImpl::LayerNormImpl;
  torch::Tensor forward(const torch::Tensor& x);
};
TORCH_MODULE(MultiHeadLayerNorm);

// x · rsqrt(mean(x²) + eps) over the last dim, then · weight (+ bias).
class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t ndim, double eps = 1e-6, bool use_weight = true, bool use_bias = false,
              bool force_float32_reductions = true, const torch::TensorOptions& options = {});
  void reset_parameters();  // weight 1, bias 0
  torch::Tensor forward(const torch::Tensor& x);  // x (..., ndim)

  torch::Tensor weight, bias;

 private:
  int64_t ndim_;
  double eps_;
  bool force_float32_reductions_;
};
TORCH_MODULE(RMSNorm);

namespace large {

// Per-head layer norm of xLSTM-Large: x (B, S, NH, DH) -> (B, S, NH·DH), normalised over DH, then
// · weight (+ bias) of length NH·DH.
class MultiHeadLayerNormImpl : public torch::nn::Module {
 public:
  MultiHeadLayerNormImpl(int64_t num_heads, int64_t head_dim, double eps = 1e-6, bool use_weight = true,
                         bool use_bias = false, bool force_float32_reductions = true,
                         const torch::TensorOptions& options = {});
  void reset_parameters();  // weight 1, bias 0
  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight, bias;

 private:
  int64_t num_heads_, head_dim_;
  double eps_;
  bool force_float32_reductions_;
};
TORCH_MODULE(MultiHeadLayerNorm);

}  // namespace large
}  // namespace xlstm
