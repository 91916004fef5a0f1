// Conversion of sLSTM parameters saved by the reference's vanilla backend into the CUDA layout that
// sLSTMCell uses (xlstm-spec.md §2.5):
//   vanilla _recurrent_kernel_ (NH, 4·DH, DH) [h, g·DH + j, d]  ->  cuda (NH, DH, 4·DH) [h, d, g·DH + j]
//   vanilla _bias_ (4·NH·DH) ordered (gate, head, unit)         ->  cuda ordered (head, gate, unit)
// The layout is recognised by the recurrent kernel's shape; the bias has the same shape in both and
// is converted together with its sibling kernel (a vanilla bias loaded as is would be silently wrong).
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

namespace xlstm {

// Converts, in place, every "<prefix>slstm_cell._recurrent_kernel_" of vanilla shape (NH, 4·DH, DH)
// and its "<prefix>slstm_cell._bias_"; returns the number of cells converted. Kernels already in the
// CUDA layout (or of any other shape) are left alone. Throws CheckpointError when the sibling bias
// of a converted kernel is missing or does not have 4·NH·DH elements.
int convert_vanilla_slstm_params(std::map<std::string, torch::Tensor>& state_dict);

}  // namespace xlstm
