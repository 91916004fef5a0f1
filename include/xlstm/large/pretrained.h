// Loading a pretrained xLSTM-Large from a checkpoint folder in either layout (io/pretrained.h): the
// reference's export (config.yaml + model.safetensors or model_k.safetensors) or the Hugging Face hub's
// (config.json + sharded model-0000k-of-0000n.safetensors + index), e.g. NX-AI/xLSTM-7b.
//
// The model is built directly in `options.dtype` on `options.device` and filled tensor by tensor from
// the memory-mapped files, so a bf16 checkpoint never passes through an fp32 copy of the model.
// The weight mode of the files (fused tensors such as qkv_opreact present or not) decides the mode the
// weights are loaded in; when the config asks for the other mode, the loaded model is converted
// (which briefly holds two copies of the weights).
//
//   auto [config, model] = xlstm::large::load_pretrained_large("xLSTM-7b", {torch::kCUDA, torch::kBFloat16});
#pragma once

#include <torch/torch.h>

#include <string>

#include "xlstm/config.h"
#include "xlstm/io/pretrained.h"
#include "xlstm/large/model.h"

namespace xlstm::large {

struct PretrainedOptions {
  torch::Device device = torch::kCPU;
  torch::Dtype dtype = torch::kBFloat16;
  io::FolderLayout layout = io::FolderLayout::automatic;
};

struct Pretrained {
  xLSTMLargeConfig config;
  xLSTMLarge model{nullptr};
};

// "single" or "fused": the weight mode of the tensors stored in the folder's checkpoint files.
std::string stored_weight_mode(const io::CheckpointFiles& files);

// Config and weights of a checkpoint folder, loaded strictly (errors name the file and key); the model
// is returned in eval mode with config.weight_mode.
Pretrained load_pretrained_large(const std::string& folder, const PretrainedOptions& options = {});

}  // namespace xlstm::large
