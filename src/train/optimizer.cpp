// make_adamw: the decay / no-decay groups of weight_decay_param_groups in one torch::optim::AdamW.
#include "xlstm/train/optimizer.h"

#include <tuple>
#include <vector>

#include "xlstm/lm_model.h"

namespace xlstm::train {

std::unique_ptr<torch::optim::AdamW> make_adamw(const torch::nn::Module& module, const TrainingConfig& config,
                                                bool weight_decay_on_embedding) {
  auto groups = weight_decay_param_groups(module, weight_decay_on_embedding);
  const auto options = [&](double weight_decay) {
    return std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(config.lr)
                                                            .betas(std::make_tuple(config.adam_beta1, config.adam_beta2))
                                                            .eps(config.adam_eps)
                                                            .weight_decay(weight_decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  param_groups.emplace_back(groups.decay, options(config.weight_decay));
  param_groups.emplace_back(groups.no_decay, options(0.0));
  return std::make_unique<torch::optim::AdamW>(param_groups, torch::optim::AdamWOptions(config.lr));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace xlstm::train
