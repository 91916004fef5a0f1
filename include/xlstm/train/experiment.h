// An experiment config run end to end, as the reference's experiments/main.py runs it: torch seeded
// with training.seed, the xLSTMLMModel built and reset_parameters()'d, the dataset's splits generated
// (train, validation*, test*), the Trainer run, and the final table of validation and test results
// printed and written to <output_dir>/results.md.
#pragma once

#include <iostream>

#include "xlstm/train/experiment_config.h"
#include "xlstm/train/trainer.h"

namespace xlstm::train {

// options.config_yaml is set to to_yaml(config) (what checkpoints store and resuming compares).
template <class Kwargs>
TrainResult run_experiment(const ExperimentConfig<Kwargs>& config, RunOptions options, std::ostream& out = std::cout);

}  // namespace xlstm::train
