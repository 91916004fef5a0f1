// Multi-Query Associative Recall (Zoology, xlstm-spec.md §8.2): N key-value pairs, then queries of the
// keys; the model must emit each key's value. mLSTM's matrix memory stores the pairs, sLSTM's scalar
// memory cannot hold many.
//
//   xlstm_mqar configs/mqar_xlstm10.yaml --set dataset.kwargs.num_kv_pairs=64
//   xlstm_mqar configs/mqar_xlstm10_quick.yaml
//
// Options: see experiment_cli.h. Prints accuracy over the query positions and rescaled accuracy per
// validation split at the end.
#include "experiment_cli.h"

int main(int argc, char** argv) {
  return xlstm_examples::experiment_main<xlstm::data::MQARDatasetConfig>(
      argc, argv, "xlstm_mqar", [](const xlstm::train::MQARExperimentConfig&) {});
}
