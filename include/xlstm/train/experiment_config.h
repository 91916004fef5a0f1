// An experiment config as the reference's experiments/*.yaml lays it out (xlstm-spec.md §8.1):
//
//   training: {...}                  TrainingConfig
//   model: {...}                     xLSTMLMModelConfig
//   dataset: {name: ..., kwargs: {...}}   the dataset's config
//
// Read with from_yaml / from_yaml_file (config.h), which also resolve the reference's interpolations
// (`lr_decay_until_steps: ${.num_steps}`, `vocab_size: ${dataset.kwargs.vocab_size}`) and take
// command-line overrides ("training.num_steps=100"). One config type per dataset kind, so every key
// of the file is checked against the fields of the dataset it names.
#pragma once

#include <string>

#include "xlstm/config.h"
#include "xlstm/data/formal_language_config.h"
#include "xlstm/data/mqar_config.h"
#include "xlstm/data/token_files_config.h"
#include "xlstm/train/training_config.h"

namespace xlstm::train {

template <class Kwargs>
struct DatasetSection {
  std::string name = Kwargs::kName;  // must be Kwargs::kName
  Kwargs kwargs;

  template <class V>
  void fields(V&& v) {
    v("name", name, FieldKind::user);
    v("kwargs", kwargs, FieldKind::user);
  }
};

template <class Kwargs>
struct ExperimentConfig {
  TrainingConfig training;
  xLSTMLMModelConfig model;
  DatasetSection<Kwargs> dataset;

  void post_init() { model.post_init(); }
  // Each section, then: dataset.name is Kwargs::kName and model.vocab_size covers the dataset's tokens.
  void validate(const std::string& path = "") const;

  template <class V>
  void fields(V&& v) {
    v("training", training, FieldKind::user);
    v("model", model, FieldKind::user);
    v("dataset", dataset, FieldKind::user);
  }
};

using FormLangExperimentConfig = ExperimentConfig<data::FormLangDatasetConfig>;
using MQARExperimentConfig = ExperimentConfig<data::MQARDatasetConfig>;
// Language modelling on token files (xlstm train, lm_training.h).
using LMExperimentConfig = ExperimentConfig<data::TokenFilesConfig>;

}  // namespace xlstm::train
