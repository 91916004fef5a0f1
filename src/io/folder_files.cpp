// Finding the files of a checkpoint folder (layouts in pretrained.h): layout detection, the weight
// files of each layout, and the Hugging Face index with its weight_map.
#include <set>

#include "io/file_util.h"
#include "io/json_text.h"
#include "xlstm/io/pretrained.h"

namespace xlstm::io {
namespace {

using json = nlohmann::json;
using json_text::quote;
using json_text::show;

constexpr const char* kYaml = "config.yaml";
constexpr const char* kJson = "config.json";
constexpr const char* kSingle = "model.safetensors";
constexpr const char* kIndex = "model.safetensors.index.json";

bool is_file_or_link_to_file(const std::string& path) { return followed_path_kind(path) == PathKind::file; }

FolderLayout detect_layout(const std::string& folder) {
  const bool yaml = is_file_or_link_to_file(folder + "/" + kYaml);
  const bool json_config = is_file_or_link_to_file(folder + "/" + kJson);
  if (yaml && json_config)
    throw CheckpointError(folder + ": holds both config.yaml (reference layout) and config.json (Hugging Face "
                                   "layout); name the layout to load");
  if (yaml) return FolderLayout::reference;
  if (json_config) return FolderLayout::hugging_face;
  throw CheckpointError(folder + ": not a checkpoint folder: no config.yaml (reference layout) and no config.json "
                                 "(Hugging Face layout)");
}

// model.safetensors, or else model_0.safetensors, model_1.safetensors, ... until one is missing.
std::vector<std::string> reference_shards(const std::string& folder) {
  if (is_file_or_link_to_file(folder + "/" + kSingle)) return {folder + "/" + kSingle};
  std::vector<std::string> shards;
  for (size_t i = 0;; ++i) {
    const std::string path = folder + "/model_" + std::to_string(i) + ".safetensors";
    if (!is_file_or_link_to_file(path)) break;
    shards.push_back(path);
  }
  if (shards.empty())
    throw CheckpointError(folder + ": no weights: neither model.safetensors nor model_0.safetensors exists");
  return shards;
}

// A weight_map file name must stay inside the folder: a plain name, no '/' and not "." or "..".
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

void read_index(CheckpointFiles& files) {
  const std::string& path = files.index_file;
  json root;
  try {
    const std::string text = read_file(path);
    root = json_text::parse_strict(text.begin(), text.end());
  } catch (const json_text::ParseError& e) {
    throw CheckpointError(path + ": " + e.what());
  }
  if (!root.is_object()) throw CheckpointError(path + ": expected a JSON object, got " + show(root));
  for (const auto& item : root.items())
    if (item.key() != "metadata" && item.key() != "weight_map")
      throw CheckpointError(path + ": unexpected key " + quote(item.key()) + " (an index has metadata and weight_map)");
  if (root.contains("metadata")) {
    const json& metadata = root["metadata"];
    if (!metadata.is_object()) throw CheckpointError(path + ": metadata must be an object, got " + show(metadata));
    if (metadata.contains("total_size") && !metadata["total_size"].is_number_unsigned())
      throw CheckpointError(path + ": metadata.total_size must be a non-negative integer, got " +
                            show(metadata["total_size"]));
  }
  if (!root.contains("weight_map")) throw CheckpointError(path + ": missing key \"weight_map\"");
  const json& weight_map = root["weight_map"];
  if (!weight_map.is_object() || weight_map.empty())
    throw CheckpointError(path + ": weight_map must be a non-empty object of tensor name -> file, got " +
                          show(weight_map));
  std::set<std::string> checked;
  for (const auto& [name, file] : weight_map.items()) {
    const std::string where = path + ": weight_map[" + quote(name) + "]";
    if (!file.is_string()) throw CheckpointError(where + " must be a file name, got " + show(file));
    const std::string file_name = file.get<std::string>();
    if (!is_plain_file_name(file_name))
      throw CheckpointError(where + " is " + show(file) + ", not a file name inside the folder");
    const std::string shard = files.folder + "/" + file_name;
    if (checked.insert(shard).second) {
      if (!is_file_or_link_to_file(shard))
        throw CheckpointError(where + " points at " + shard + ", which does not exist or is not a file");
      files.shard_files.push_back(shard);
    }
    files.weight_map[name] = shard;
  }
}

}  // namespace

CheckpointFiles find_checkpoint_files(const std::string& folder_arg, FolderLayout layout) {
  CheckpointFiles files;
  files.folder = strip_trailing_slashes(folder_arg);
  const std::string& folder = files.folder;
  if (followed_path_kind(folder) != PathKind::directory) throw CheckpointError(folder + ": no such folder");
  files.layout = layout == FolderLayout::automatic ? detect_layout(folder) : layout;
  files.config_file = folder + "/" + (files.layout == FolderLayout::reference ? kYaml : kJson);
  if (!is_file_or_link_to_file(files.config_file))
    throw CheckpointError(files.config_file + ": missing (the config file of this layout)");

  if (files.layout == FolderLayout::reference) {
    files.shard_files = reference_shards(folder);
  } else if (is_file_or_link_to_file(folder + "/" + kIndex)) {
    files.index_file = folder + "/" + kIndex;
    read_index(files);
  } else if (is_file_or_link_to_file(folder + "/" + kSingle)) {
    files.shard_files = {folder + "/" + kSingle};
  } else {
    throw CheckpointError(folder + ": no weights: neither model.safetensors.index.json nor model.safetensors exists");
  }
  return files;
}

}  // namespace xlstm::io
