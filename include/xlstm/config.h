// Configuration structs of both xLSTM families, with the reference's YAML field names and defaults
// (xlstm-spec.md §1 and §6.1).
//
// Every struct lists its fields once, in `fields(visitor)`: YAML parsing, YAML writing and equality are
// all written against that list, so a field added there is parsed, written and compared everywhere.
// A visitor is called as `v(name, member, kind)`; FieldKind::derived marks fields that `post_init()`
// computes (accepted when read, not written, recomputed anyway).
//
// Life cycle, as in the reference: fill the fields (from YAML or in code), call `post_init()` on the
// top-level config (it pushes embedding_dim, bias, dropout, ... down into the nested configs and
// computes the derived fields), then `validate()`. `from_yaml` does all three.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace xlstm {

// Thrown for every invalid configuration. `key_path()` names the offending field, e.g.
// "mlstm_block.mlstm.num_heads"; what() reads "mlstm_block.mlstm.num_heads: 3 does not divide 256".
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key_path, const std::string& message);
  // `inner`, reported for a file: what() reads "<file>: <inner.what()>"; key_path() stays the same.
  ConfigError(const std::string& file, const ConfigError& inner);
  const std::string& key_path() const { return key_path_; }

 private:
  std::string key_path_;
};

enum class FieldKind { user, derived };

// Largest num_blocks validate() accepts. post_init() loops over the blocks, so it leaves larger (and
// negative) counts alone for validate() to report instead of allocating without bound.
inline constexpr int64_t kMaxNumBlocks = 65536;

// ceil or floor(proj_factor * embedding_dim / multiple_of) * multiple_of (UpProjConfigMixin).
int64_t round_proj_up_dim(double proj_factor, int64_t embedding_dim, bool round_up, int64_t multiple_of);

// ------------------------------------------------------------------------------------------ NeurIPS family

struct mLSTMLayerConfig {
  double proj_factor = 2.0;
  bool round_proj_up_dim_up = true;
  int64_t round_proj_up_to_multiple_of = 64;
  int64_t _proj_up_dim = 0;  // derived
  int64_t conv1d_kernel_size = 4;
  int64_t qkv_proj_blocksize = 4;
  int64_t num_heads = 4;
  int64_t embedding_dim = -1;
  bool bias = false;
  double dropout = 0.0;
  int64_t context_length = -1;
  int64_t _num_blocks = 1;
  int64_t _inner_embedding_dim = 0;  // derived (= _proj_up_dim)
  int64_t _block_idx = 0;            // set by the stack
  // Extensions of this library (not in the reference):
  // backend: "auto" (parallel form while S <= context_length, chunkwise beyond, the CUDA op on GPUs),
  // "parallel", "chunkwise" or "recurrent".
  std::string backend = "auto";
  int64_t chunk_size = 64;  // chunk length of the chunkwise form

  void post_init();
  void validate(const std::string& path = "") const;

  template <class V>
  void fields(V&& v) {
    v("proj_factor", proj_factor, FieldKind::user);
    v("round_proj_up_dim_up", round_proj_up_dim_up, FieldKind::user);
    v("round_proj_up_to_multiple_of", round_proj_up_to_multiple_of, FieldKind::user);
    v("_proj_up_dim", _proj_up_dim, FieldKind::derived);
    v("conv1d_kernel_size", conv1d_kernel_size, FieldKind::user);
    v("qkv_proj_blocksize", qkv_proj_blocksize, FieldKind::user);
    v("num_heads", num_heads, FieldKind::user);
    v("embedding_dim", embedding_dim, FieldKind::user);
    v("bias", bias, FieldKind::user);
    v("dropout", dropout, FieldKind::user);
    v("context_length", context_length, FieldKind::user);
    v("_num_blocks", _num_blocks, FieldKind::derived);
    v("_inner_embedding_dim", _inner_embedding_dim, FieldKind::derived);
    v("_block_idx", _block_idx, FieldKind::derived);
    v("backend", backend, FieldKind::user);
    v("chunk_size", chunk_size, FieldKind::user);
  }
};

struct mLSTMBlockConfig {
  mLSTMLayerConfig mlstm;
  int64_t _num_blocks = 1;
  int64_t _block_idx = 0;

  void post_init();
  void validate(const std::string& path = "") const;

  template <class V>
  void fields(V&& v) {
    v("mlstm", mlstm, FieldKind::user);
    v("_num_blocks", _num_blocks, FieldKind::derived);
    v("_block_idx", _block_idx, FieldKind::derived);
  }
};

// sLSTMCellConfig fields (§1.5). The layer config below extends it, as in the reference.
struct sLSTMCellConfig {
  int64_t hidden_size = -1;
  int64_t num_heads = 4;
  int64_t num_states = 4;          // derived from `function`: slstm 4, lstm 2
  std::string backend = "cuda";    // "cuda" (fused kernel on GPUs) or "vanilla" (ATen loop)
  std::string function = "slstm";  // "slstm" or "lstm"
  std::string bias_init = "powerlaw_blockdependent";  // | small_init | standard | zeros
  std::string recurrent_weight_init = "zeros";        // | standard
  int64_t _block_idx = 0;
  int64_t _num_blocks = 1;
  int64_t num_gates = 4;
  bool gradient_recurrent_cut = false;
  std::optional<double> gradient_recurrent_clipval;
  std::optional<double> forward_clipval;  // unused by the reference as well
  int64_t batch_size = 8;                 // compile-time define of the reference kernel; unused here
  std::string input_shape = "BSGNH";
  std::string internal_input_shape = "SBNGH";
  std::string output_shape = "BNSH";
  std::string dtype = "bfloat16";
  std::string dtype_b = "float32";
  std::optional<std::string> dtype_r, dtype_w, dtype_g, dtype_s, dtype_a;
  bool enable_automatic_mixed_precision = true;
  double initial_val = 0.0;

  int64_t head_dim() const { return hidden_size / num_heads; }
  int64_t input_dim() const { return 4 * hidden_size; }

  template <class V>
  void fields(V&& v) {
    v("hidden_size", hidden_size, FieldKind::derived);
    v("num_heads", num_heads, FieldKind::user);
    v("num_states", num_states, FieldKind::derived);
    v("backend", backend, FieldKind::user);
    v("function", function, FieldKind::user);
    v("bias_init", bias_init, FieldKind::user);
    v("recurrent_weight_init", recurrent_weight_init, FieldKind::user);
    v("_block_idx", _block_idx, FieldKind::derived);
    v("_num_blocks", _num_blocks, FieldKind::derived);
    v("num_gates", num_gates, FieldKind::user);
    v("gradient_recurrent_cut", gradient_recurrent_cut, FieldKind::user);
    v("gradient_recurrent_clipval", gradient_recurrent_clipval, FieldKind::user);
    v("forward_clipval", forward_clipval, FieldKind::user);
    v("batch_size", batch_size, FieldKind::user);
    v("input_shape", input_shape, FieldKind::user);
    v("internal_input_shape", internal_input_shape, FieldKind::user);
    v("output_shape", output_shape, FieldKind::user);
    v("dtype", dtype, FieldKind::user);
    v("dtype_b", dtype_b, FieldKind::user);
    v("dtype_r", dtype_r, FieldKind::user);
    v("dtype_w", dtype_w, FieldKind::user);
    v("dtype_g", dtype_g, FieldKind::user);
    v("dtype_s", dtype_s, FieldKind::user);
    v("dtype_a", dtype_a, FieldKind::user);
    v("enable_automatic_mixed_precision", enable_automatic_mixed_precision, FieldKind::user);
    v("initial_val", initial_val, FieldKind::user);
  }
};

struct sLSTMLayerConfig : sLSTMCellConfig {
  int64_t embedding_dim = -1;
  int64_t conv1d_kernel_size = 4;  // 0: no conv
  bool group_norm_weight = true;
  double dropout = 0.0;

  void post_init();
  void validate(const std::string& path = "") const;

  template <class V>
  void fields(V&& v) {
    sLSTMCellConfig::fields(v);
    v("embedding_dim", embedding_dim, FieldKind::user);
    v("conv1d_kernel_size", conv1d_kernel_size, FieldKind::user);
    v("group_norm_weight", group_norm_weight, FieldKind::user);
    v("dropout", dropout, FieldKind::user);
  }
};

struct FeedForwardConfig {
  double proj_factor = 1.3;
  bool round_proj_up_dim_up = true;
  int64_t round_proj_up_to_multiple_of = 64;
  int64_t _proj_up_dim = 0;  // derived
  std::string act_fn = "gelu";  // gelu (exact), relu, relu^2, sigmoid, swish, selu
  int64_t embedding_dim = -1;
  double dropout = 0.0;
  bool bias = false;
  std::string ff_type = "ffn_gated";
  int64_t _num_blocks = 1;

  void post_init();
  void validate(const std::string& path = "") const;

  template <class V>
  void fields(V&& v) {
    v("proj_factor", proj_factor, FieldKind::user);
    v("round_proj_up_dim_up", round_proj_up_dim_up, FieldKind::user);
    v("round_proj_up_to_multiple_of", round_proj_up_to_multiple_of, FieldKind::user);
    v("_proj_up_dim", _proj_up_dim, FieldKind::derived);
    v("act_fn", act_fn, FieldKind::user);
    v("embedding_dim", embedding_dim, FieldKind::user);
    v("dropout", dropout, FieldKind::user);
    v("bias", bias, FieldKind::user);
    v("ff_type", ff_type, FieldKind::user);
    v("_num_blocks", _num_blocks, FieldKind::derived);
  }
};

struct sLSTMBlockConfig {
  sLSTMLayerConfig slstm;
  std::optional<FeedForwardConfig> feedforward = FeedForwardConfig();  // YAML `feedforward: null` = none
  int64_t _num_blocks = 1;
  int64_t _block_idx = 0;

  void post_init();
  void validate(const std::string& path = "") const;

  template <class V>
  void fields(V&& v) {
    v("slstm", slstm, FieldKind::user);
    v("feedforward", feedforward, FieldKind::user);
    v("_num_blocks", _num_blocks, FieldKind::derived);
    v("_block_idx", _block_idx, FieldKind::derived);
  }
};

struct xLSTMBlockStackConfig {
  std::optional<mLSTMBlockConfig> mlstm_block;
  std::optional<sLSTMBlockConfig> slstm_block;
  int64_t context_length = -1;
  int64_t num_blocks = 1;
  int64_t embedding_dim = 128;
  bool add_post_blocks_norm = true;
  bool bias = false;
  double dropout = 0.0;
  // Block indices that are sLSTM blocks. YAML also accepts the string "all" (every block); when no
  // mlstm_block is given every block is an sLSTM block, as in the reference.
  std::vector<int64_t> slstm_at;
  std::string _block_map;  // derived: "0,1,0,..." (1 = sLSTM)

  void post_init();
  void validate(const std::string& path = "") const;
  std::vector<int> block_map() const;  // parsed _block_map

  // The per-block configs, as xLSTMBlockStack._create_blocks builds them: a copy with _block_idx set.
  mLSTMBlockConfig mlstm_block_config(int64_t block_idx) const;
  sLSTMBlockConfig slstm_block_config(int64_t block_idx) const;

  template <class V>
  void fields(V&& v) {
    v("mlstm_block", mlstm_block, FieldKind::user);
    v("slstm_block", slstm_block, FieldKind::user);
    v("context_length", context_length, FieldKind::user);
    v("num_blocks", num_blocks, FieldKind::user);
    v("embedding_dim", embedding_dim, FieldKind::user);
    v("add_post_blocks_norm", add_post_blocks_norm, FieldKind::user);
    v("bias", bias, FieldKind::user);
    v("dropout", dropout, FieldKind::user);
    v("slstm_at", slstm_at, FieldKind::user);
    v("_block_map", _block_map, FieldKind::derived);
  }
};

struct xLSTMLMModelConfig : xLSTMBlockStackConfig {
  int64_t vocab_size = -1;
  bool tie_weights = false;
  bool weight_decay_on_embedding = false;
  bool add_embedding_dropout = false;

  void validate(const std::string& path = "") const;

  template <class V>
  void fields(V&& v) {
    xLSTMBlockStackConfig::fields(v);
    v("vocab_size", vocab_size, FieldKind::user);
    v("tie_weights", tie_weights, FieldKind::user);
    v("weight_decay_on_embedding", weight_decay_on_embedding, FieldKind::user);
    v("add_embedding_dropout", add_embedding_dropout, FieldKind::user);
  }
};

// ------------------------------------------------------------------------------------------ xLSTM-Large (§6.1)

struct xLSTMLargeConfig {
  int64_t embedding_dim = -1;  // required
  int64_t num_heads = -1;      // required
  int64_t num_blocks = -1;     // required
  int64_t vocab_size = -1;     // required
  bool use_bias = false;
  double norm_eps = 1e-6;
  bool norm_reduction_force_float32 = true;
  bool add_out_norm = true;
  double qk_dim_factor = 0.5;
  double v_dim_factor = 1.0;
  // Kernel names of the reference (mlstm_kernels registries) are accepted and mapped to this
  // library's implementations: every chunkwise--* name to the chunkwise op, parallel--* to the
  // parallel form, native_sequence__* to the step loop, native/triton step kernels to the step op.
  std::string chunkwise_kernel = "chunkwise--triton_limit_chunk";
  std::string sequence_kernel = "native_sequence__triton";
  std::string step_kernel = "triton";
  std::string mode = "train";  // train | train_with_padding | inference
  int64_t chunk_size = 64;
  bool return_last_states = false;
  std::string autocast_kernel_dtype = "bfloat16";
  double eps = 1e-6;
  std::string inference_state_dtype = "float32";
  double ffn_proj_factor = 2.6667;
  int64_t ffn_round_up_to_multiple_of = 64;
  std::optional<double> gate_soft_cap = 15.0;          // null: no cap
  std::optional<double> output_logit_soft_cap = 30.0;  // null: no cap
  std::string weight_mode = "single";                  // single | fused

  int64_t qk_dim() const { return static_cast<int64_t>(embedding_dim * qk_dim_factor); }
  int64_t v_dim() const { return static_cast<int64_t>(embedding_dim * v_dim_factor); }
  int64_t qk_head_dim() const { return qk_dim() / num_heads; }
  int64_t v_head_dim() const { return v_dim() / num_heads; }
  int64_t ffn_dim() const;  // int(((E*pf + m - 1) // m) * m)

  void post_init() {}
  void validate(const std::string& path = "") const;

  template <class V>
  void fields(V&& v) {
    v("embedding_dim", embedding_dim, FieldKind::user);
    v("num_heads", num_heads, FieldKind::user);
    v("num_blocks", num_blocks, FieldKind::user);
    v("vocab_size", vocab_size, FieldKind::user);
    v("use_bias", use_bias, FieldKind::user);
    v("norm_eps", norm_eps, FieldKind::user);
    v("norm_reduction_force_float32", norm_reduction_force_float32, FieldKind::user);
    v("add_out_norm", add_out_norm, FieldKind::user);
    v("qk_dim_factor", qk_dim_factor, FieldKind::user);
    v("v_dim_factor", v_dim_factor, FieldKind::user);
    v("chunkwise_kernel", chunkwise_kernel, FieldKind::user);
    v("sequence_kernel", sequence_kernel, FieldKind::user);
    v("step_kernel", step_kernel, FieldKind::user);
    v("mode", mode, FieldKind::user);
    v("chunk_size", chunk_size, FieldKind::user);
    v("return_last_states", return_last_states, FieldKind::user);
    v("autocast_kernel_dtype", autocast_kernel_dtype, FieldKind::user);
    v("eps", eps, FieldKind::user);
    v("inference_state_dtype", inference_state_dtype, FieldKind::user);
    v("ffn_proj_factor", ffn_proj_factor, FieldKind::user);
    v("ffn_round_up_to_multiple_of", ffn_round_up_to_multiple_of, FieldKind::user);
    v("gate_soft_cap", gate_soft_cap, FieldKind::user);
    v("output_logit_soft_cap", output_logit_soft_cap, FieldKind::user);
    v("weight_mode", weight_mode, FieldKind::user);
  }
};

// Kernel names of the reference's mlstm_kernels registries that xLSTMLargeConfig accepts:
// chunkwise_kernel takes the chunkwise--* and the parallel--* names, sequence_kernel the
// native_sequence__* names, step_kernel the step names.
const std::vector<std::string>& known_chunkwise_kernels();
const std::vector<std::string>& known_sequence_kernels();
const std::vector<std::string>& known_step_kernels();

// ------------------------------------------------------------------------------------------ YAML

// Parse a YAML document (text) into a config: strict (unknown keys and wrong types are errors that
// name the key path and the value), then post_init() and validate(). Instantiated for every config
// struct above and the experiment configs (xlstm/train/experiment_config.h).
// Before reading, `overrides` ("key.path=value", the value in YAML syntax: "training.num_steps=100",
// "model.slstm_at=[0, 1]") are applied in order, then interpolations are resolved: a value that is
// exactly "${a.b}" (from the top) or "${.b}" (a sibling; each further dot goes one mapping up), as
// OmegaConf writes them in the reference's experiment configs, is replaced by the value it names.
template <class Config>
Config from_yaml(const std::string& yaml_text, const std::vector<std::string>& overrides = {});
template <class Config>
Config from_yaml_file(const std::string& path, const std::vector<std::string>& overrides = {});
// Writes the user fields (not the derived ones); from_yaml(to_yaml(c)) == c.
template <class Config>
std::string to_yaml(const Config& config);

template <class Config>
bool config_equal(const Config& a, const Config& b);

#define XLSTM_CONFIG_EQ(T) \
  inline bool operator==(const T& a, const T& b) { return config_equal(a, b); } \
  inline bool operator!=(const T& a, const T& b) { return !config_equal(a, b); }
XLSTM_CONFIG_EQ(mLSTMLayerConfig)
XLSTM_CONFIG_EQ(mLSTMBlockConfig)
XLSTM_CONFIG_EQ(sLSTMLayerConfig)
XLSTM_CONFIG_EQ(FeedForwardConfig)
XLSTM_CONFIG_EQ(sLSTMBlockConfig)
XLSTM_CONFIG_EQ(xLSTMBlockStackConfig)
XLSTM_CONFIG_EQ(xLSTMLMModelConfig)
XLSTM_CONFIG_EQ(xLSTMLargeConfig)
#undef XLSTM_CONFIG_EQ

}  // namespace xlstm
