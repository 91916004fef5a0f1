// Checkpoint folders of xLSTM-Large (pretrained weights) in the two layouts that exist:
//
// FolderLayout::reference — the export layout of the reference's xlstm_large (load_from_pretrained,
// xlstm-spec.md §6.4):
//     config.yaml                          xLSTMLargeConfig fields (read with from_yaml, strict)
//     model.safetensors                    all weights, or else
//     model_0.safetensors, model_1.safetensors, ...   read until the first number that is missing
//   Tensor names are the module's own (embedding.weight, backbone.blocks.0..., lm_head.weight).
//
// FolderLayout::hugging_face — the Hugging Face hub layout of NX-AI/xLSTM-7b (transformers'
// xLSTMForCausalLM):
//     config.json                          transformers' xLSTMConfig (mapping in hf_config.h)
//     model.safetensors                    all weights, or, when the index exists,
//     model.safetensors.index.json         {"metadata": {"total_size": bytes}, "weight_map": {name: file}}
//     model-00001-of-0000n.safetensors ... the files the index names (plain names inside the folder)
//   Tensor names are the hub's (backbone.embeddings.weight for embedding.weight, see hub_names.h).
//   Files may be symbolic links (as in a hub cache snapshot).
//
// FolderLayout::automatic picks the layout by the config file present: config.yaml -> reference,
// config.json -> hugging_face; a folder with both or neither is an error (name the layout instead).
// All errors are CheckpointError (files, tensors) or ConfigError (config fields) and name the file
// and the key at fault.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "xlstm/config.h"
#include "xlstm/io/state_dict.h"

namespace xlstm::io {

enum class FolderLayout { automatic, reference, hugging_face };

// The files of a checkpoint folder, found and checked for presence (not yet read as safetensors).
struct CheckpointFiles {
  std::string folder;
  FolderLayout layout = FolderLayout::automatic;  // reference or hugging_face once found
  std::string config_file;                        // path of config.yaml / config.json
  std::vector<std::string> shard_files;           // paths of the weight files, in reading order
  std::string index_file;                         // path of model.safetensors.index.json, or empty
  std::map<std::string, std::string> weight_map;  // from the index: tensor name -> path of its file
};

// Finds the files of the layout (or detects it). Errors: no such folder, no config file, both config
// files (automatic), no weights file, an index that is not valid JSON or has fields of the wrong type,
// an index entry naming a file outside the folder or one that does not exist (the error names the
// file and the first tensor that points at it).
CheckpointFiles find_checkpoint_files(const std::string& folder, FolderLayout layout = FolderLayout::automatic);

// The configuration of a checkpoint folder: config.yaml through from_yaml_file<xLSTMLargeConfig>, or
// config.json through read_hf_config_file. weight_mode is kept as written (the reference forces
// "single" because its exports hold single-mode weights; they also say "single").
xLSTMLargeConfig read_large_config(const std::string& folder, FolderLayout layout = FolderLayout::automatic);

struct FolderLoadOptions {
  FolderLayout layout = FolderLayout::automatic;
  // Strict: every module tensor must be in the checkpoint with its shape, and nothing else may be;
  // otherwise one CheckpointError lists every missing, unexpected and mismatched name (with the file
  // that holds it) and the module is left untouched. Not strict: loads what fits, returns the rest.
  // Problems of the files themselves (unreadable headers, an index that contradicts the files) raise
  // in both modes.
  bool strict = true;
};

// Loads the weights of a checkpoint folder into the parameters and buffers of `module` by name (any
// module; for xLSTMLarge the names are those of xlstm-spec.md §6.3). Before anything is copied, every
// weight file's header is validated and checked against the index (each listed tensor in its file,
// each file tensor listed, no name in two files) and against the module (names, shapes, floating vs.
// integer dtypes). Then the files are read one at a time through their memory mapping, tensor by
// tensor: copy_ into the existing tensor (converting dtype and moving to its device per tensor), the
// tensor's pages are dropped right after, and each file is unmapped once done. Host memory therefore
// grows by about the largest tensor beyond the module's own parameters; no copy of the whole model
// is ever made.
LoadResult load_checkpoint_folder(torch::nn::Module& module, const std::string& folder,
                                  const FolderLoadOptions& options = {});

// transformers' default shard size (5 GB).
inline constexpr uint64_t kDefaultMaxShardBytes = 5'000'000'000;

// Writes `module`'s parameters and buffers (in their dtype) with `config` as a checkpoint folder of
// the given layout (not automatic): the config file, then the tensors in module order in files of at
// most `max_shard_bytes` each (a larger tensor gets a file of its own); one file is model.safetensors,
// several are model_0.safetensors, ... (reference) or model-00001-of-0000n.safetensors with the index
// (hugging_face; names mapped to the hub's). Every file carries the metadata {"format": "pt"} that
// transformers requires. The folder is written under a temporary name next to `folder` and swapped
// in, so a failure never leaves a partial checkpoint; an existing `folder` is replaced only if it is
// empty or holds a checkpoint folder (a config.yaml or config.json), anything else is refused.
void save_checkpoint_folder(const torch::nn::Module& module, const xLSTMLargeConfig& config,
                            const std::string& folder, FolderLayout layout,
                            uint64_t max_shard_bytes = kDefaultMaxShardBytes);

}  // namespace xlstm::io
