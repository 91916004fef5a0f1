// Single <-> fused weights of xLSTM-Large: per-block concatenation and splitting of projections.
#include "xlstm/large/weight_mode.h"

#include <algorithm>
#include <regex>
#include <stdexcept>
#include <vector>

#include "xlstm/io/state_dict.h"

namespace xlstm::large {

namespace {

// One fusion: the sub-module path inside a block, its single-mode members and the fused name.
struct Fusion {
  const char* module;
  std::vector<std::string> members;
  const char* fused;
};

const std::vector<Fusion>& fusions() {
  static const std::vector<Fusion> table = {
      {"mlstm_layer", {"q", "k", "v", "ogate_preact"}, "qkv_opreact"},
      {"mlstm_layer", {"igate_preact", "fgate_preact"}, "ifgate_preact"},
      {"ffn", {"proj_up_gate", "proj_up"}, "proj_up_gate_z"},
  };
  return table;
}

// "backbone.blocks.<N>.<module>.<member>.<weight|bias>" split into its parts.
struct BlockKey {
  std::string block_prefix, module, member, param;
};

bool parse_block_key(const std::string& key, BlockKey& out) {
  static const std::regex pattern(R"(^(backbone\.blocks\.[0-9]+\.)([A-Za-z_]+)\.([A-Za-z_]+)\.(weight|bias)$)");
  std::smatch m;
  if (!std::regex_match(key, m, pattern)) return false;
  out = {m[1], m[2], m[3], m[4]};
  return true;
}

// The fusion that `key` takes part in, as a single-mode member (fused = false) or as the fused
// tensor (fused = true); null for every other key. Fills `k` when it returns non-null.
const Fusion* fusion_of(const std::string& key, bool fused, BlockKey& k) {
  if (!parse_block_key(key, k)) return nullptr;
  for (const auto& f : fusions()) {
    if (k.module != f.module) continue;
    if (fused ? k.member == f.fused
              : std::find(f.members.begin(), f.members.end(), k.member) != f.members.end())
      return &f;
  }
  return nullptr;
}

std::string join(const BlockKey& k, const std::string& member) {
  return k.block_prefix + k.module + "." + member + "." + k.param;
}

// Row counts of a fusion's members for `config`.
std::vector<int64_t> member_rows(const Fusion& f, const xLSTMLargeConfig& config) {
  const std::string fused = f.fused;
  if (fused == "qkv_opreact") return {config.qk_dim(), config.qk_dim(), config.v_dim(), config.v_dim()};
  if (fused == "ifgate_preact") return {config.num_heads, config.num_heads};
  return {config.ffn_dim(), config.ffn_dim()};
}

std::string shape_of(const torch::Tensor& t) {
  std::string s = "(";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + ")";
}

}  // namespace

TensorMap fuse_weights(const TensorMap& single) {
  TensorMap out;
  for (const auto& [key, tensor] : single) {
    BlockKey k;
    const Fusion* owner = fusion_of(key, /*fused=*/false, k);
    if (!owner) {
      out.emplace(key, tensor);
      continue;
    }
    const std::string fused_key = join(k, owner->fused);
    if (out.count(fused_key)) continue;  // already built from another member
    std::vector<torch::Tensor> parts;
    for (const auto& member : owner->members) {
      const auto it = single.find(join(k, member));
      if (it == single.end())
        throw std::invalid_argument("fuse_weights: " + key + " is present but " + join(k, member) + " is missing");
      parts.push_back(it->second);
    }
    out.emplace(fused_key, torch::cat(parts, 0));
  }
  return out;
}

TensorMap split_fused_weights(const TensorMap& fused, const xLSTMLargeConfig& config) {
  TensorMap out;
  for (const auto& [key, tensor] : fused) {
    BlockKey k;
    const Fusion* owner = fusion_of(key, /*fused=*/true, k);
    if (!owner) {
      out.emplace(key, tensor);
      continue;
    }
    const auto rows = member_rows(*owner, config);
    int64_t total = 0;
    for (int64_t r : rows) total += r;
    if (tensor.dim() < 1 || tensor.size(0) != total)
      throw std::invalid_argument("split_fused_weights: " + key + " has shape " + shape_of(tensor) + ", the config needs " +
                                  std::to_string(total) + " rows");
    int64_t begin = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      out.emplace(join(k, owner->members[i]), tensor.narrow(0, begin, rows[i]).clone());
      begin += rows[i];
    }
  }
  return out;
}

xLSTMLarge convert_weight_mode(const xLSTMLarge& model, const std::string& weight_mode) {
  auto config = model->config;
  const std::string from = config.weight_mode;
  config.weight_mode = weight_mode;
  const auto& w = model->embedding->weight;
  xLSTMLarge converted(config, torch::TensorOptions().dtype(w.scalar_type()).device(w.device()));
  auto weights = io::state_dict(*model);
  if (from != weight_mode) weights = weight_mode == "fused" ? fuse_weights(weights) : split_fused_weights(weights, config);
  io::load_state_dict(*converted, weights, /*strict=*/true);
  return converted;
}

}  // namespace xlstm::large
