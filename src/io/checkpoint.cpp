// Training checkpoint folders: state dict, optimizer archive, trainer.json and config text, written
// into a temporary folder that is swapped in atomically, and read back with every file checked first.
#include "xlstm/io/checkpoint.h"

#include <nlohmann/json.hpp>

#include <limits>
#include <sstream>

#include "io/file_util.h"
#include "xlstm/io/state_dict.h"

namespace xlstm::io {
namespace {

using json = nlohmann::json;

constexpr const char* kFormat = "xlstm-training-checkpoint";
constexpr int kVersion = 1;
constexpr const char* kFiles[] = {"model.safetensors", "optimizer.pt", "trainer.json", "config.yaml"};

std::string trainer_json(const std::string& dir, int64_t step, const std::map<std::string, std::string>& metadata) {
  try {
    return json{{"format", kFormat}, {"version", kVersion}, {"step", step}, {"metadata", metadata}}.dump(2) + "\n";
  } catch (const json::exception&) {
    throw CheckpointError(dir + ": a metadata key or value is not valid UTF-8");
  }
}

TrainingState parse_trainer_json(const std::string& path) {
  const json root = json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) throw CheckpointError(path + ": not a JSON object");
  const auto field = [&](const char* key) -> const json& {
    if (!root.contains(key)) throw CheckpointError(path + ": missing field \"" + key + "\"");
    return root[key];
  };
  if (field("format") != kFormat)
    throw CheckpointError(path + ": format is " + field("format").dump() + ", expected \"" + kFormat + "\"");
  if (field("version") != kVersion)
    throw CheckpointError(path + ": version " + field("version").dump() + " is not supported (this library reads " +
                          std::to_string(kVersion) + ")");
  TrainingState state;
  const json& step = field("step");
  // nlohmann stores every non-negative integer as unsigned.
  if (!step.is_number_unsigned() || step.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    throw CheckpointError(path + ": step must be a non-negative integer, got " + step.dump());
  state.step = step.get<int64_t>();
  const json& metadata = field("metadata");
  if (!metadata.is_object()) throw CheckpointError(path + ": metadata must be an object, got " + metadata.dump());
  for (const auto& [key, value] : metadata.items()) {
    if (!value.is_string())
      throw CheckpointError(path + ": metadata \"" + key + "\" must be a string, got " + value.dump());
    state.metadata[key] = value.get<std::string>();
  }
  return state;
}

std::string optimizer_bytes(const std::string& dir, const torch::optim::Optimizer& optimizer) {
  std::ostringstream bytes;
  try {
    torch::serialize::OutputArchive archive;
    archive << optimizer;
    archive.save_to(bytes);
  } catch (const c10::Error& e) {
    throw CheckpointError(dir + ": cannot serialise the optimizer: " + e.what_without_backtrace());
  }
  return bytes.str();
}

}  // namespace

void save_training_checkpoint(const std::string& dir_arg, const torch::nn::Module& module,
                              const torch::optim::Optimizer& optimizer, int64_t step,
                              const std::string& config_yaml, const std::map<std::string, std::string>& metadata) {
  const std::string dir = strip_trailing_slashes(dir_arg);
  if (step < 0) throw CheckpointError(dir + ": step must be non-negative, got " + std::to_string(step));
  check_replaceable(dir, {"trainer.json"}, "a training checkpoint");
  const std::string trainer = trainer_json(dir, step, metadata);
  const std::string optimizer_archive = optimizer_bytes(dir, optimizer);

  const std::string temp = make_temp_directory(dir);
  try {
    save_state_dict(module, temp + "/model.safetensors");
    write_file_atomic(temp + "/optimizer.pt", optimizer_archive);
    write_file_atomic(temp + "/trainer.json", trainer);
    write_file_atomic(temp + "/config.yaml", config_yaml);
    replace_directory(temp, dir);
  } catch (...) {
    remove_tree(temp);
    throw;
  }
}

TrainingState load_training_checkpoint(const std::string& dir_arg, torch::nn::Module& module,
                                       torch::optim::Optimizer& optimizer) {
  const std::string dir = strip_trailing_slashes(dir_arg);
  if (path_kind(dir) != PathKind::directory) throw CheckpointError(dir + ": no training checkpoint folder here");
  std::string missing;
  for (const char* file : kFiles)
    if (path_kind(dir + "/" + file) != PathKind::file) missing += std::string(missing.empty() ? "" : ", ") + file;
  if (!missing.empty()) throw CheckpointError(dir + ": incomplete training checkpoint, missing " + missing);

  TrainingState state = parse_trainer_json(dir + "/trainer.json");
  state.config_yaml = read_file(dir + "/config.yaml");

  // Read the optimizer archive before touching the module, then load the module (strict: a state dict
  // that does not fit raises before any copy), then the optimizer state.
  const std::string optimizer_path = dir + "/optimizer.pt";
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(optimizer_path);
  } catch (const c10::Error& e) {
    throw CheckpointError(optimizer_path + ": not a readable optimizer archive: " + e.what_without_backtrace());
  }
  load_state_dict(module, dir + "/model.safetensors", /*strict=*/true);
  try {
    archive >> optimizer;
  } catch (const c10::Error& e) {
    throw CheckpointError(optimizer_path + ": does not fit the optimizer: " + e.what_without_backtrace());
  }
  return state;
}

}  // namespace xlstm::io
