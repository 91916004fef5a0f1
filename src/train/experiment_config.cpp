// ExperimentConfig::validate: the three sections and how they fit together.
#include "xlstm/train/experiment_config.h"

#include "config/detail.h"
#include "config/yaml_scalars.h"

namespace xlstm::train {

template <class Kwargs>
void ExperimentConfig<Kwargs>::validate(const std::string& path) const {
  using namespace config_detail;
  const std::string name_path = join(path, "dataset.name");
  if (dataset.name != Kwargs::kName)
    throw ConfigError(name_path, show(dataset.name) + " is not " + Kwargs::kName +
                                     " (the dataset this program and config type take)");
  training.validate(join(path, "training"));
  model.validate(join(path, "model"));
  dataset.kwargs.validate(join(path, "dataset.kwargs"));
  if (model.vocab_size < dataset.kwargs.vocab_size)
    throw ConfigError(join(path, "model.vocab_size"), show(model.vocab_size) + " is smaller than the dataset's vocabulary (" +
                                                          join(path, "dataset.kwargs.vocab_size") + " " +
                                                          show(dataset.kwargs.vocab_size) + ")");
}

template struct ExperimentConfig<data::FormLangDatasetConfig>;
template struct ExperimentConfig<data::MQARDatasetConfig>;
template struct ExperimentConfig<data::TokenFilesConfig>;

}  // namespace xlstm::train
