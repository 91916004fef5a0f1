// The dtype tag of the kernels' floating inputs (the op bindings map ATen dtypes to it).
#pragma once

namespace xlstm::kernels {

enum class DType { f32, f16, bf16 };

}  // namespace xlstm::kernels
