// The configuration of a checkpoint folder: config.yaml (reference layout) or config.json (Hugging Face).
#include "xlstm/io/hf_config.h"
#include "xlstm/io/pretrained.h"

namespace xlstm::io {

xLSTMLargeConfig read_large_config(const std::string& folder, FolderLayout layout) {
  const CheckpointFiles files = find_checkpoint_files(folder, layout);
  if (files.layout == FolderLayout::reference) return from_yaml_file<xLSTMLargeConfig>(files.config_file);
  return read_hf_config_file(files.config_file);
}

}  // namespace xlstm::io
