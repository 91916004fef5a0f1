// Parity (xlstm-spec.md §8.1): the state-tracking task that sLSTM's memory mixing solves and mLSTM
// alone does not. Trains on sequences of length 3-40 and validates on 40-256 (length generalisation).
//
//   xlstm_parity configs/parity_xlstm11.yaml            # the reference config (GPU: 20,000 steps)
//   xlstm_parity configs/parity_xlstm11_quick.yaml      # a short CPU run
//
// Options: see experiment_cli.h. Prints accuracy and rescaled accuracy (0 = chance, 1 = perfect) per
// validation split at the end.
#include "experiment_cli.h"

int main(int argc, char** argv) {
  using Config = xlstm::train::FormLangExperimentConfig;
  return xlstm_examples::experiment_main<xlstm::data::FormLangDatasetConfig>(
      argc, argv, "xlstm_parity", [](const Config& config) {
        if (config.dataset.kwargs.synth_lang_type != "parity")
          throw xlstm::ConfigError("dataset.kwargs.synth_lang_type",
                                   "\"" + config.dataset.kwargs.synth_lang_type +
                                       "\" is not parity (xlstm_formal runs the other tasks)");
      });
}
