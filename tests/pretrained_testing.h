// Test helpers of the checkpoint folder suites (test_pretrained_*.cpp and pretrained_memory_probe):
// a stand-in for xLSTMLarge with exactly its parameter names, order and shapes (xlstm-spec.md §6.3,
// single weight mode, no biases) but no forward, and comparisons of modules' tensors.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "xlstm/config.h"

namespace xlstm::testing {

// A module whose parameters are added by dotted name ("a.b.weight" creates the submodules a and a.b),
// in the order they are added.
class NamedParams : public torch::nn::Module {
 public:
  void add(const std::string& dotted, const std::vector<int64_t>& shape, torch::Dtype dtype, bool fill) {
    torch::nn::Module* owner = this;
    std::string rest = dotted;
    for (size_t dot; (dot = rest.find('.')) != std::string::npos; rest = rest.substr(dot + 1)) {
      const std::string child = rest.substr(0, dot);
      std::shared_ptr<torch::nn::Module> next;
      for (const auto& item : owner->named_children())
        if (item.key() == child) next = item.value();
      if (!next) next = owner->register_module(child, std::make_shared<torch::nn::Module>());
      owner = next.get();
    }
    const auto options = torch::TensorOptions().dtype(dtype);
    owner->register_parameter(rest, fill ? torch::randn(shape, options) : torch::empty(shape, options));
  }
};

// xLSTMLarge's parameters for `c` (random normal values when `fill`, else uninitialised memory).
inline std::shared_ptr<NamedParams> large_like_module(const xLSTMLargeConfig& c, torch::Dtype dtype, bool fill = true) {
  auto m = std::make_shared<NamedParams>();
  const int64_t E = c.embedding_dim, NH = c.num_heads, F = c.ffn_dim();
  m->add("embedding.weight", {c.vocab_size, E}, dtype, fill);
  for (int64_t b = 0; b < c.num_blocks; ++b) {
    const std::string p = "backbone.blocks." + std::to_string(b) + ".";
    m->add(p + "norm_mlstm.weight", {E}, dtype, fill);
    m->add(p + "mlstm_layer.q.weight", {c.qk_dim(), E}, dtype, fill);
    m->add(p + "mlstm_layer.k.weight", {c.qk_dim(), E}, dtype, fill);
    m->add(p + "mlstm_layer.v.weight", {c.v_dim(), E}, dtype, fill);
    m->add(p + "mlstm_layer.ogate_preact.weight", {c.v_dim(), E}, dtype, fill);
    m->add(p + "mlstm_layer.igate_preact.weight", {NH, E}, dtype, fill);
    m->add(p + "mlstm_layer.igate_preact.bias", {NH}, dtype, fill);
    m->add(p + "mlstm_layer.fgate_preact.weight", {NH, E}, dtype, fill);
    m->add(p + "mlstm_layer.fgate_preact.bias", {NH}, dtype, fill);
    m->add(p + "mlstm_layer.multihead_norm.weight", {c.v_dim()}, dtype, fill);
    m->add(p + "mlstm_layer.out_proj.weight", {E, c.v_dim()}, dtype, fill);
    m->add(p + "norm_ffn.weight", {E}, dtype, fill);
    m->add(p + "ffn.proj_up_gate.weight", {F, E}, dtype, fill);
    m->add(p + "ffn.proj_up.weight", {F, E}, dtype, fill);
    m->add(p + "ffn.proj_down.weight", {E, F}, dtype, fill);
  }
  if (c.add_out_norm) m->add("backbone.out_norm.weight", {E}, dtype, fill);
  m->add("lm_head.weight", {c.vocab_size, E}, dtype, fill);
  return m;
}

// A small valid xLSTMLargeConfig (E=64, 4 heads, 2 blocks, vocab 96).
inline xLSTMLargeConfig small_large_config() {
  xLSTMLargeConfig c;
  c.embedding_dim = 64;
  c.num_heads = 4;
  c.num_blocks = 2;
  c.vocab_size = 96;
  c.mode = "inference";
  c.return_last_states = true;
  return c;
}

// Total bytes of a module's parameters and buffers.
inline int64_t tensor_bytes(const torch::nn::Module& m) {
  int64_t bytes = 0;
  for (const auto& p : m.parameters()) bytes += p.numel() * p.element_size();
  for (const auto& b : m.buffers()) bytes += b.numel() * b.element_size();
  return bytes;
}

}  // namespace xlstm::testing
