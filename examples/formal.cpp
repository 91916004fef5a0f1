// The formal-language tasks of the reference's experiments (xlstm-spec.md §8.1): parity, even_pairs,
// cycle_navigation, modular_arithmetic (dataset.kwargs.synth_lang_type), e.g.
//
//   xlstm_formal configs/parity_xlstm11.yaml --set dataset.kwargs.synth_lang_type=cycle_navigation \
//       --set dataset.kwargs.vocab_size=10
//
// Options: see experiment_cli.h. Prints accuracy and rescaled accuracy per validation split at the end.
#include "experiment_cli.h"

int main(int argc, char** argv) {
  return xlstm_examples::experiment_main<xlstm::data::FormLangDatasetConfig>(
      argc, argv, "xlstm_formal", [](const xlstm::train::FormLangExperimentConfig&) {});
}
