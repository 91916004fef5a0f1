// `xlstm info`: parameter count, block layout and memory estimate of a model config or checkpoint.
#include <cstdio>

#include "cli/command.h"
#include "cli/model_summary.h"
#include "io/file_util.h"
#include "xlstm/io/pretrained.h"
#include "xlstm/io/safetensors.h"
#include "xlstm/large/pretrained.h"

namespace xlstm::cli {
namespace {

// The config of a checkpoint folder: a training checkpoint (trainer.json, config.yaml of either
// family) or an xLSTM-Large folder of the reference or Hugging Face layout. Prints what the folder holds.
ModelConfig checkpoint_config(const std::string& folder) {
  const std::string dir = io::strip_trailing_slashes(folder);
  if (io::followed_path_kind(dir) != io::PathKind::directory)
    throw std::runtime_error(dir + ": no such checkpoint folder");
  if (io::followed_path_kind(dir + "/trainer.json") == io::PathKind::file) {
    std::printf("checkpoint: %s (training checkpoint)\n", dir.c_str());
    return read_model_config(dir + "/config.yaml");
  }
  const io::CheckpointFiles files = io::find_checkpoint_files(dir);
  uint64_t bytes = 0;
  for (const auto& path : files.shard_files) {
    const io::SafetensorsReader reader(path);
    for (const auto& key : reader.keys()) bytes += reader.info(key).end - reader.info(key).begin;
  }
  std::printf("checkpoint: %s (%s layout, %zu weight file%s, %.2f GB of tensors, %s weights)\n", dir.c_str(),
              files.layout == io::FolderLayout::reference ? "reference" : "Hugging Face", files.shard_files.size(),
              files.shard_files.size() == 1 ? "" : "s", bytes / 1e9, large::stored_weight_mode(files).c_str());
  ModelConfig config;
  config.large = io::read_large_config(dir, files.layout);
  return config;
}

int run_info(const Args& args) {
  args.require_one_of("config", "checkpoint");
  const ModelConfig config = args.has("config") ? read_model_config(args.get("config")) : checkpoint_config(args.get("checkpoint"));
  std::fputs(format_summary(summarize(config)).c_str(), stdout);
  return 0;
}

}  // namespace

Command info_command() {
  return {"info", "parameter count, block layout and memory estimate of a model",
          "usage: xlstm info --config FILE | --checkpoint DIR\n"
          "\n"
          "Prints the parameter count (embedding, blocks, head), each block's type and size, and memory\n"
          "estimates (weights in fp32 and bf16, AdamW training state, recurrent state per sequence).\n"
          "\n"
          "  --config FILE      a YAML config of an xLSTMLMModel or an xLSTMLarge (configs/*.yaml)\n"
          "  --checkpoint DIR   an xLSTM-Large checkpoint folder (config.yaml or config.json with\n"
          "                     safetensors weights), or a training checkpoint folder (trainer.json)\n",
          {{"config"}, {"checkpoint"}},
          run_info};
}

}  // namespace xlstm::cli
