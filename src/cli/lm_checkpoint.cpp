// load_lm_checkpoint (lm_checkpoint.h).
#include "cli/lm_checkpoint.h"

#include <stdexcept>

#include "io/file_util.h"
#include "xlstm/io/state_dict.h"

namespace xlstm::cli {

LMCheckpoint load_lm_checkpoint(const std::string& dir, const std::string& tokenizer_path) {
  LMCheckpoint c;
  c.folder = io::strip_trailing_slashes(dir);
  if (io::followed_path_kind(c.folder + "/checkpoint/trainer.json") == io::PathKind::file) c.folder += "/checkpoint";
  if (io::followed_path_kind(c.folder) != io::PathKind::directory)
    throw std::runtime_error(c.folder + ": no such checkpoint folder");
  for (const char* file : {"config.yaml", "model.safetensors"})
    if (io::followed_path_kind(c.folder + "/" + file) != io::PathKind::file)
      throw std::runtime_error(c.folder + ": not a checkpoint of xlstm train (no " + file + ")");
  c.config = from_yaml_file<train::LMExperimentConfig>(c.folder + "/config.yaml");
  c.model = xLSTMLMModel(c.config.model);
  try {
    io::load_state_dict(*c.model, c.folder + "/model.safetensors", /*strict=*/true);
  } catch (const CheckpointError& e) {
    throw std::runtime_error(c.folder + ": the weights do not fit the model of its config.yaml: " + e.what());
  }
  c.model->eval();
  c.tokenizer = tokenizer::Tokenizer::from_path(tokenizer_path.empty() ? c.config.dataset.kwargs.tokenizer : tokenizer_path);
  if (c.tokenizer->vocab_size() > c.config.model.vocab_size)
    throw std::runtime_error(c.tokenizer->source() + ": a vocabulary of " + std::to_string(c.tokenizer->vocab_size()) +
                             " tokens does not fit the model's " + std::to_string(c.config.model.vocab_size));
  return c;
}

}  // namespace xlstm::cli
