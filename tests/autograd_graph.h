// Inspecting an autograd graph in tests: how many nodes of a name the graph of a tensor holds.
#pragma once

#include <torch/torch.h>

#include <set>
#include <string>
#include <vector>

namespace xlstm::testing {

// The nodes of the autograd graph of t whose name contains `name`.
inline int graph_count(const torch::Tensor& t, const std::string& name) {
  std::vector<torch::autograd::Node*> todo{t.grad_fn().get()};
  std::set<torch::autograd::Node*> seen;
  int count = 0;
  while (!todo.empty()) {
    auto* node = todo.back();
    todo.pop_back();
    if (!node || !seen.insert(node).second) continue;
    count += node->name().find(name) != std::string::npos;
    for (const auto& edge : node->next_edges()) todo.push_back(edge.function.get());
  }
  return count;
}
inline bool graph_has(const torch::Tensor& t, const std::string& name) { return graph_count(t, name) > 0; }

}  // namespace xlstm::testing
