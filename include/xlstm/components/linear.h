// A linear layer (nn.Linear: y = x Wᵀ + b) whose parameters are created with given tensor options, so
// a model can be built directly in bf16, on a GPU or on the meta device (shapes only, no memory)
// instead of in fp32 on the CPU first. torch::nn::Linear always allocates default-dtype CPU tensors.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace xlstm {

class LinearImpl : public torch::nn::Module {
 public:
  // weight (out_features, in_features), bias (out_features) when `bias`; initialised by reset_parameters().
  LinearImpl(int64_t in_features, int64_t out_features, bool bias, const torch::TensorOptions& options = {});

  // nn.Linear's default: weight kaiming_uniform(a = √5), i.e. U(±1/√in), bias U(±1/√in).
  void reset_parameters();

  torch::Tensor forward(const torch::Tensor& x);  // (..., in) -> (..., out)

  torch::Tensor weight, bias;  // bias undefined without one

 private:
  int64_t in_features_;
};
TORCH_MODULE(Linear);

}  // namespace xlstm
