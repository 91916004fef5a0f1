// run_experiment for the formal-language and MQAR configs.
#include "xlstm/train/experiment.h"

#include "xlstm/data/formal_language_dataset.h"
#include "xlstm/data/mqar.h"
#include "xlstm/lm_model.h"
#include "xlstm/train/run_report.h"

namespace xlstm::train {
namespace {

std::vector<data::NamedDataset> splits_of(const data::FormLangDatasetConfig& c) { return data::form_lang_splits(c); }
std::vector<data::NamedDataset> splits_of(const data::MQARDatasetConfig& c) { return data::mqar_splits(c); }

bool starts_with(const std::string& text, const std::string& prefix) { return text.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

template <class Kwargs>
TrainResult run_experiment(const ExperimentConfig<Kwargs>& config, RunOptions options, std::ostream& out_main) {
  options.config_yaml = to_yaml(config);
  const bool main = !options.distributed || options.distributed->is_main();
  std::ostream discard(nullptr);  // data parallel: the ranks other than 0 print and write nothing
  std::ostream& out = main ? out_main : discard;
  torch::manual_seed(static_cast<uint64_t>(config.training.seed));
  xLSTMLMModel model(config.model);
  model->reset_parameters();
  apply_memory_options(model, config.training);

  std::shared_ptr<const data::SequenceDataset> train;
  std::vector<data::NamedDataset> validation, test;
  for (auto& split : splits_of(config.dataset.kwargs)) {
    if (starts_with(split.name, "train")) train = split.data;
    else if (starts_with(split.name, "validation")) validation.push_back(split);
    else test.push_back(split);
  }

  Trainer trainer(config.training, trainable(model), train, validation, test, options, out);
  out << "model: " << parameter_count(*model) << " parameters, " << config.model.num_blocks << " blocks "
      << config.model._block_map << " (0 = mLSTM, 1 = sLSTM) | device " << trainer.device() << " | train: " << train->description()
      << ", " << train->size() << " examples of length " << train->sequence_length()
      << (options.distributed ? " | " + std::to_string(options.distributed->world_size()) + " ranks (" +
                                    options.distributed->backend() + ")"
                              : std::string())
      << "\n"
      << std::flush;
  const TrainResult result = trainer.run();
  if (result.steps < config.training.num_steps) {  // stopped early: no results yet
    if (main)
      out << "stopped after step " << result.steps << " of " << config.training.num_steps << "; --resume continues from "
          << options.output_dir << "/checkpoint\n";
    return result;
  }
  report_results(main ? options.output_dir : "", run_summary(result), results_table(result.final_results), out);
  return result;
}

template TrainResult run_experiment(const FormLangExperimentConfig&, RunOptions, std::ostream&);
template TrainResult run_experiment(const MQARExperimentConfig&, RunOptions, std::ostream&);

}  // namespace xlstm::train
