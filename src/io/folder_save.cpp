// Writing a checkpoint folder (see pretrained.h): config file, weights split into files of bounded
// size in module order, and for the Hugging Face layout the index; written into a temporary folder
// that is swapped in at the end.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <set>

#include "io/file_util.h"
#include "xlstm/io/hf_config.h"
#include "xlstm/io/hub_names.h"
#include "xlstm/io/pretrained.h"

namespace xlstm::io {
namespace {

using Shard = std::map<std::string, torch::Tensor>;  // file name -> tensor

// The module's parameters then buffers, in registration order, under the layout's names.
std::vector<std::pair<std::string, torch::Tensor>> ordered_tensors(const torch::nn::Module& module, FolderLayout layout) {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  std::set<std::string> seen;
  const auto add = [&](const std::string& name, const torch::Tensor& t) {
    const std::string file_name = layout == FolderLayout::hugging_face ? hub_name_from_module(name) : name;
    if (!seen.insert(file_name).second)
      throw CheckpointError("save_checkpoint_folder: two module tensors would be stored as \"" + file_name + "\"");
    tensors.emplace_back(file_name, t.detach());
  };
  for (const auto& item : module.named_parameters(/*recurse=*/true)) add(item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/true)) add(item.key(), item.value());
  return tensors;
}

// Consecutive tensors grouped into shards of at most `max_bytes` (a larger tensor alone).
std::vector<Shard> split(const std::vector<std::pair<std::string, torch::Tensor>>& tensors, uint64_t max_bytes) {
  std::vector<Shard> shards(1);
  uint64_t bytes = 0;
  for (const auto& [name, tensor] : tensors) {
    const uint64_t size = tensor.numel() * tensor.element_size();
    if (!shards.back().empty() && bytes + size > max_bytes) {
      shards.emplace_back();
      bytes = 0;
    }
    shards.back()[name] = tensor;
    bytes += size;
  }
  return shards;
}

std::string shard_name(FolderLayout layout, size_t i, size_t n) {
  if (n == 1) return "model.safetensors";
  if (layout == FolderLayout::reference) return "model_" + std::to_string(i) + ".safetensors";
  char name[64];
  std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", i + 1, n);
  return name;
}

std::string index_json(const std::vector<Shard>& shards, const std::vector<std::string>& names) {
  nlohmann::json weight_map = nlohmann::json::object();
  uint64_t total = 0;
  for (size_t i = 0; i < shards.size(); ++i)
    for (const auto& [name, tensor] : shards[i]) {
      weight_map[name] = names[i];
      total += tensor.numel() * tensor.element_size();
    }
  return nlohmann::json{{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}}.dump(2) + "\n";
}

}  // namespace

void save_checkpoint_folder(const torch::nn::Module& module, const xLSTMLargeConfig& config,
                            const std::string& folder_arg, FolderLayout layout, uint64_t max_shard_bytes) {
  const std::string folder = strip_trailing_slashes(folder_arg);
  if (layout == FolderLayout::automatic)
    throw CheckpointError(folder + ": save_checkpoint_folder needs FolderLayout::reference or hugging_face");
  if (max_shard_bytes == 0) throw CheckpointError(folder + ": max_shard_bytes must be positive");
  config.validate();
  check_replaceable(folder, {"config.yaml", "config.json"}, "a checkpoint folder");

  const std::vector<Shard> shards = split(ordered_tensors(module, layout), max_shard_bytes);
  std::vector<std::string> names;
  for (size_t i = 0; i < shards.size(); ++i) names.push_back(shard_name(layout, i, shards.size()));

  const std::string temp = make_temp_directory(folder);
  try {
    if (layout == FolderLayout::reference) {
      write_file_atomic(temp + "/config.yaml", to_yaml(config));
    } else {
      write_file_atomic(temp + "/config.json", large_config_to_hf_json(config));
      if (shards.size() > 1) write_file_atomic(temp + "/model.safetensors.index.json", index_json(shards, names));
    }
    for (size_t i = 0; i < shards.size(); ++i) save_safetensors(temp + "/" + names[i], shards[i], {{"format", "pt"}});
    replace_directory(temp, folder);
  } catch (...) {
    remove_tree(temp);
    throw;
  }
}

}  // namespace xlstm::io
