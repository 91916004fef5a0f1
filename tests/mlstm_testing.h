// Test helper: random inputs and states of the mLSTM cell, shared by the CPU tests of the cell
// formulations (test_mlstm_backends) and of the ops (test_mlstm_ops).
#pragma once

#include <torch/torch.h>

#include "xlstm/mlstm/backends.h"

namespace xlstm::testing {

struct MlstmInputs {
  torch::Tensor q, k, v, i, f;
};

// Gate pre-activations spread wide so the stabiliser matters (exp(i) far outside fp32 range
// unstabilised). With `conditioned`, q and k have a positive mean so that the normaliser |q.n| stays
// away from zero: with random signs it sometimes nearly cancels, and then any rounding (fp32, bf16) is
// amplified by the function itself, not by the implementation.
inline MlstmInputs random_mlstm_inputs(int64_t B, int64_t NH, int64_t S, int64_t DK, int64_t DV,
                                       bool conditioned = true, torch::Dtype dt = torch::kFloat32) {
  auto o = torch::TensorOptions().dtype(dt);
  const double shift = conditioned ? 1.0 : 0.0;
  return {torch::randn({B, NH, S, DK}, o) + shift, torch::randn({B, NH, S, DK}, o) + shift,
          torch::randn({B, NH, S, DV}, o), torch::randn({B, NH, S}, o) * 8.0, torch::randn({B, NH, S}, o) * 4.0 + 2.0};
}

inline mLSTMState random_mlstm_state(int64_t B, int64_t NH, int64_t DK, int64_t DV, torch::Dtype dt = torch::kFloat32) {
  auto o = torch::TensorOptions().dtype(dt);
  return {torch::randn({B, NH, DK, DV}, o), torch::rand({B, NH, DK}, o) + 0.5, torch::randn({B, NH, 1}, o) * 3.0};
}

}  // namespace xlstm::testing
