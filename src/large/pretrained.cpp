// load_pretrained_large: config, weight mode of the files, strict tensor-by-tensor load, conversion.
#include "xlstm/large/pretrained.h"

#include "xlstm/io/safetensors.h"
#include "xlstm/large/weight_mode.h"

namespace xlstm::large {

namespace {

bool is_fused_key(const std::string& key) {
  return key.find(".qkv_opreact.") != std::string::npos || key.find(".ifgate_preact.") != std::string::npos ||
         key.find(".proj_up_gate_z.") != std::string::npos;
}

}  // namespace

std::string stored_weight_mode(const io::CheckpointFiles& files) {
  for (const auto& [key, file] : files.weight_map)
    if (is_fused_key(key)) return "fused";
  if (!files.weight_map.empty()) return "single";
  for (const auto& path : files.shard_files)
    for (const auto& key : io::SafetensorsReader(path).keys())
      if (is_fused_key(key)) return "fused";
  return "single";
}

Pretrained load_pretrained_large(const std::string& folder, const PretrainedOptions& options) {
  const io::CheckpointFiles files = io::find_checkpoint_files(folder, options.layout);
  Pretrained result;
  result.config = io::read_large_config(folder, files.layout);
  xLSTMLargeConfig stored = result.config;
  stored.weight_mode = stored_weight_mode(files);
  result.model = xLSTMLarge(stored, torch::TensorOptions().dtype(options.dtype).device(options.device));
  io::load_checkpoint_folder(*result.model, folder, {files.layout, /*strict=*/true});
  if (stored.weight_mode != result.config.weight_mode)
    result.model = convert_weight_mode(result.model, result.config.weight_mode);
  result.model->eval();
  return result;
}

}  // namespace xlstm::large
