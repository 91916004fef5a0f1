// recompute_in_backward: a custom autograd node that holds fn and its saved input; its apply() reruns
// fn with gradients (and the first run's autocast and random state) and calls backward on the result.
#include "xlstm/recompute.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/autograd/saved_variable.h>

#include <optional>
#include <utility>
#include <vector>

#include "xlstm/autocast_scope.h"

namespace xlstm {
namespace {

using torch::autograd::variable_list;
using GeneratorStates = std::vector<std::pair<at::Generator, torch::Tensor>>;  // a generator, its state

GeneratorStates snapshot(std::vector<at::Generator> generators) {
  GeneratorStates states;
  for (auto& g : generators) {
    std::lock_guard<std::mutex> lock(g.mutex());
    states.emplace_back(g, g.get_state());
  }
  return states;
}

void restore(const GeneratorStates& states) {
  for (const auto& [g, state] : states) {
    at::Generator gen = g;
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);
  }
}

// The state that fn's first run saw and its recomputation must see again.
struct RunContext {
  c10::DeviceType device_type = c10::DeviceType::CPU;
  bool autocast = false;
  at::ScalarType autocast_dtype = at::kFloat;
  GeneratorStates generators;  // before the run

  static RunContext capture(const torch::Tensor& x) {
    RunContext c;
    c.device_type = x.device().type();
    c.autocast = at::autocast::is_autocast_enabled(c.device_type);
    c.autocast_dtype = at::autocast::get_autocast_dtype(c.device_type);
    std::vector<at::Generator> gens{at::detail::getDefaultCPUGenerator()};
    if (!x.is_cpu()) gens.push_back(at::globalContext().defaultGenerator(x.device()));
    c.generators = snapshot(std::move(gens));
    return c;
  }
};

// Sets the generators to `states` for its lifetime and puts back what they held before.
class GeneratorFork {
 public:
  explicit GeneratorFork(const GeneratorStates& states) {
    std::vector<at::Generator> generators;
    for (const auto& entry : states) generators.push_back(entry.first);
    previous_ = snapshot(std::move(generators));
    restore(states);
  }
  ~GeneratorFork() { restore(previous_); }
  GeneratorFork(const GeneratorFork&) = delete;
  GeneratorFork& operator=(const GeneratorFork&) = delete;

 private:
  GeneratorStates previous_;
};

// Autocast's cache of weight casts off for its lifetime.
class NoCastCache {
 public:
  NoCastCache() : was_(at::autocast::is_autocast_cache_enabled()) { at::autocast::set_autocast_cache_enabled(false); }
  ~NoCastCache() { at::autocast::set_autocast_cache_enabled(was_); }
  NoCastCache(const NoCastCache&) = delete;
  NoCastCache& operator=(const NoCastCache&) = delete;

 private:
  bool was_;
};

struct RecomputeBackward final : torch::autograd::Node {
  std::function<torch::Tensor(const torch::Tensor&)> fn;
  torch::autograd::SavedVariable input;
  bool input_requires_grad = false;
  RunContext context;

  std::string name() const override { return "xlstm::RecomputeBackward"; }

  variable_list apply(variable_list&& grads) override {
    TORCH_CHECK(fn, "recompute_in_backward: backward through the same graph a second time (its saved input "
                    "was freed; use retain_graph=true for that)");
    if (!grads[0].defined()) return {torch::Tensor()};
    const auto x = input.unpack().detach().requires_grad_(input_requires_grad);
    torch::Tensor y;
    {
      torch::AutoGradMode grad_mode(true);
      GeneratorFork rng(context.generators);
      // The recomputation runs on an autograd engine thread (CUDA) or the caller's (CPU), whose
      // autocast state is not the first run's.
      AutocastScope autocast(context.device_type, context.autocast, context.autocast_dtype);
      y = fn(x);
    }
    if (!y.requires_grad()) return {torch::Tensor()};  // fn depends on nothing that needs a gradient
    torch::autograd::backward({y}, {grads[0]});
    return {input_requires_grad ? x.grad() : torch::Tensor()};
  }

  void release_variables() override {
    input.reset_data();
    fn = nullptr;
  }
};

}  // namespace

torch::Tensor recompute_in_backward(const std::function<torch::Tensor(const torch::Tensor&)>& fn,
                                    const torch::Tensor& x) {
  if (!torch::GradMode::is_enabled()) return fn(x);
  RunContext context = RunContext::capture(x);
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    NoCastCache no_cache;
    y = fn(x);
    if (y.is_view() || y.is_same(x)) y = y.clone();  // the node becomes y's history: y must own its data
  }
  // Whether fn depends on anything that needs a gradient is only known from a run with gradients; a
  // module's parameters are the usual case, so the node is built whenever any could: x, or fn's own.
  auto node = std::shared_ptr<RecomputeBackward>(new RecomputeBackward(), torch::autograd::deleteNode);
  node->fn = fn;
  node->input = torch::autograd::SavedVariable(x, /*is_output=*/false);
  node->input_requires_grad = x.requires_grad();
  node->context = std::move(context);
  node->set_next_edges(torch::autograd::collect_next_edges(x));
  torch::autograd::create_gradient_edge(y, node);
  return y;
}

}  // namespace xlstm
