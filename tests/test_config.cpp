// Config structs: defaults, the fixture / shipped / parity configs and their derived values, exact
// YAML round trips (also of randomly mutated configs), and config equality.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "testing.h"
#include "xlstm/config.h"

namespace xlstm {
namespace {

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

// ------------------------------------------------------------------------------------------ defaults

TEST(ConfigDefaults, MatchTheSpec) {
  const mLSTMLayerConfig m;
  EXPECT_EQ(m.proj_factor, 2.0);
  EXPECT_TRUE(m.round_proj_up_dim_up);
  EXPECT_EQ(m.round_proj_up_to_multiple_of, 64);
  EXPECT_EQ(m.conv1d_kernel_size, 4);
  EXPECT_EQ(m.qkv_proj_blocksize, 4);
  EXPECT_EQ(m.num_heads, 4);
  EXPECT_EQ(m.embedding_dim, -1);
  EXPECT_FALSE(m.bias);
  EXPECT_EQ(m.dropout, 0.0);
  EXPECT_EQ(m.context_length, -1);
  EXPECT_EQ(m._num_blocks, 1);
  EXPECT_EQ(m.backend, "auto");
  EXPECT_EQ(m.chunk_size, 64);

  const sLSTMLayerConfig s;
  EXPECT_EQ(s.hidden_size, -1);
  EXPECT_EQ(s.num_heads, 4);
  EXPECT_EQ(s.num_states, 4);
  EXPECT_EQ(s.backend, "cuda");
  EXPECT_EQ(s.function, "slstm");
  EXPECT_EQ(s.bias_init, "powerlaw_blockdependent");
  EXPECT_EQ(s.recurrent_weight_init, "zeros");
  EXPECT_EQ(s._block_idx, 0);
  EXPECT_EQ(s._num_blocks, 1);
  EXPECT_EQ(s.num_gates, 4);
  EXPECT_FALSE(s.gradient_recurrent_cut);
  EXPECT_FALSE(s.gradient_recurrent_clipval);
  EXPECT_FALSE(s.forward_clipval);
  EXPECT_EQ(s.batch_size, 8);
  EXPECT_EQ(s.input_shape, "BSGNH");
  EXPECT_EQ(s.internal_input_shape, "SBNGH");
  EXPECT_EQ(s.output_shape, "BNSH");
  EXPECT_EQ(s.dtype, "bfloat16");
  EXPECT_EQ(s.dtype_b, "float32");
  EXPECT_FALSE(s.dtype_r || s.dtype_w || s.dtype_g || s.dtype_s || s.dtype_a);
  EXPECT_TRUE(s.enable_automatic_mixed_precision);
  EXPECT_EQ(s.initial_val, 0.0);
  EXPECT_EQ(s.embedding_dim, -1);
  EXPECT_EQ(s.conv1d_kernel_size, 4);
  EXPECT_TRUE(s.group_norm_weight);
  EXPECT_EQ(s.dropout, 0.0);

  const FeedForwardConfig f;
  EXPECT_EQ(f.proj_factor, 1.3);
  EXPECT_TRUE(f.round_proj_up_dim_up);
  EXPECT_EQ(f.round_proj_up_to_multiple_of, 64);
  EXPECT_EQ(f.act_fn, "gelu");
  EXPECT_EQ(f.embedding_dim, -1);
  EXPECT_EQ(f.dropout, 0.0);
  EXPECT_FALSE(f.bias);
  EXPECT_EQ(f.ff_type, "ffn_gated");
  EXPECT_EQ(f._num_blocks, 1);

  EXPECT_TRUE(sLSTMBlockConfig().feedforward.has_value());

  const xLSTMLMModelConfig lm;
  EXPECT_FALSE(lm.mlstm_block);
  EXPECT_FALSE(lm.slstm_block);
  EXPECT_EQ(lm.context_length, -1);
  EXPECT_EQ(lm.num_blocks, 1);
  EXPECT_EQ(lm.embedding_dim, 128);
  EXPECT_TRUE(lm.add_post_blocks_norm);
  EXPECT_FALSE(lm.bias);
  EXPECT_EQ(lm.dropout, 0.0);
  EXPECT_TRUE(lm.slstm_at.empty());
  EXPECT_EQ(lm.vocab_size, -1);
  EXPECT_FALSE(lm.tie_weights);
  EXPECT_FALSE(lm.weight_decay_on_embedding);
  EXPECT_FALSE(lm.add_embedding_dropout);

  const xLSTMLargeConfig x;
  EXPECT_EQ(x.embedding_dim, -1);
  EXPECT_EQ(x.num_heads, -1);
  EXPECT_EQ(x.num_blocks, -1);
  EXPECT_EQ(x.vocab_size, -1);
  EXPECT_FALSE(x.use_bias);
  EXPECT_EQ(x.norm_eps, 1e-6);
  EXPECT_TRUE(x.norm_reduction_force_float32);
  EXPECT_TRUE(x.add_out_norm);
  EXPECT_EQ(x.qk_dim_factor, 0.5);
  EXPECT_EQ(x.v_dim_factor, 1.0);
  EXPECT_EQ(x.chunkwise_kernel, "chunkwise--triton_limit_chunk");
  EXPECT_EQ(x.sequence_kernel, "native_sequence__triton");
  EXPECT_EQ(x.step_kernel, "triton");
  EXPECT_EQ(x.mode, "train");
  EXPECT_EQ(x.chunk_size, 64);
  EXPECT_FALSE(x.return_last_states);
  EXPECT_EQ(x.autocast_kernel_dtype, "bfloat16");
  EXPECT_EQ(x.eps, 1e-6);
  EXPECT_EQ(x.inference_state_dtype, "float32");
  EXPECT_EQ(x.ffn_proj_factor, 2.6667);
  EXPECT_EQ(x.ffn_round_up_to_multiple_of, 64);
  EXPECT_EQ(x.gate_soft_cap, 15.0);
  EXPECT_EQ(x.output_logit_soft_cap, 30.0);
  EXPECT_EQ(x.weight_mode, "single");
}

// A YAML document that sets only what a config needs reads as the defaults plus post_init().
TEST(ConfigDefaults, MinimalYamlGivesDefaults) {
  FeedForwardConfig f;
  f.embedding_dim = 128;
  f.post_init();
  EXPECT_EQ(from_yaml<FeedForwardConfig>("embedding_dim: 128"), f);

  xLSTMLMModelConfig lm;
  lm.vocab_size = 10;
  lm.mlstm_block = mLSTMBlockConfig();
  lm.post_init();
  EXPECT_EQ(from_yaml<xLSTMLMModelConfig>("vocab_size: 10\nmlstm_block: {}"), lm);
  EXPECT_EQ(lm.mlstm_block->mlstm._inner_embedding_dim, 256);
}

// ------------------------------------------------------------------------------------------ derived values

TEST(ConfigDerived, ProjUpDimsOfTheSpecExamples) {
  struct Case {
    int64_t embedding_dim;
    double proj_factor;
    int64_t expected;
  };
  for (const Case& c : {Case{128, 2.0, 256}, Case{128, 1.3, 192}, Case{64, 1.3, 128}, Case{768, 2.0, 1536},
                        Case{1024, 1.3, 1344}}) {
    const std::string yaml =
        "embedding_dim: " + std::to_string(c.embedding_dim) + "\nproj_factor: " + std::to_string(c.proj_factor);
    SCOPED_TRACE(yaml);
    EXPECT_EQ(round_proj_up_dim(c.proj_factor, c.embedding_dim, true, 64), c.expected);
    const auto m = from_yaml<mLSTMLayerConfig>(yaml + "\nnum_heads: 1");
    EXPECT_EQ(m._proj_up_dim, c.expected);
    EXPECT_EQ(m._inner_embedding_dim, c.expected);
    EXPECT_EQ(from_yaml<FeedForwardConfig>(yaml)._proj_up_dim, c.expected);
  }
  // Rounding down: 1.3 * 128 / 64 = 2.6 -> 2 blocks of 64.
  EXPECT_EQ(from_yaml<FeedForwardConfig>("embedding_dim: 128\nround_proj_up_dim_up: false")._proj_up_dim, 128);
}

TEST(ConfigDerived, ReferenceDumpFieldsAreRecomputed) {
  // Derived fields may appear (also as null, as the reference dumps unset ones); post_init wins.
  const auto s = from_yaml<xLSTMBlockStackConfig>(
      "embedding_dim: 64\nnum_blocks: 3\nslstm_at: [2]\n_block_map: '1,1,1'\n"
      "mlstm_block:\n  _num_blocks: null\n  _block_idx: null\n  mlstm: {_proj_up_dim: 7, _inner_embedding_dim: 7}\n"
      "slstm_block:\n  slstm: {hidden_size: 5, num_states: null}\n  feedforward: {_proj_up_dim: 1}\n");
  EXPECT_EQ(s._block_map, "0,0,1");
  EXPECT_EQ(s.mlstm_block->_num_blocks, 3);
  EXPECT_EQ(s.mlstm_block->mlstm._proj_up_dim, 128);
  EXPECT_EQ(s.mlstm_block->mlstm._inner_embedding_dim, 128);
  EXPECT_EQ(s.slstm_block->slstm.hidden_size, 64);
  EXPECT_EQ(s.slstm_block->slstm.num_states, 4);
  EXPECT_EQ(s.slstm_block->feedforward->_proj_up_dim, 128);
}

TEST(ConfigDerived, SlstmAtAllAndNullFeedforward) {
  const auto all = from_yaml<xLSTMBlockStackConfig>("num_blocks: 3\nslstm_at: all\nmlstm_block: {}\nslstm_block: {}");
  EXPECT_EQ(all.slstm_at, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(all._block_map, "1,1,1");
  const auto quoted = from_yaml<xLSTMBlockStackConfig>("num_blocks: 2\nslstm_at: \"all\"\nmlstm_block: {}\nslstm_block: {}");
  EXPECT_EQ(quoted.slstm_at, (std::vector<int64_t>{0, 1}));
  // No mlstm_block: every block is an sLSTM block, as in the reference.
  const auto only_slstm = from_yaml<xLSTMBlockStackConfig>("num_blocks: 2\nslstm_block:\n  feedforward: null");
  EXPECT_EQ(only_slstm._block_map, "1,1");
  EXPECT_FALSE(only_slstm.slstm_block->feedforward);
  EXPECT_TRUE(from_yaml<xLSTMBlockStackConfig>("slstm_block: {}").slstm_block->feedforward);
}

TEST(ConfigDerived, ScalarForms) {
  // Integers are accepted for floats; YAML 1.2 spellings of booleans; hex and octal integers.
  const auto f = from_yaml<FeedForwardConfig>("embedding_dim: 0x40\nproj_factor: 2\nbias: True\nround_proj_up_dim_up: FALSE");
  EXPECT_EQ(f.embedding_dim, 64);
  EXPECT_EQ(f.proj_factor, 2.0);
  EXPECT_TRUE(f.bias);
  EXPECT_FALSE(f.round_proj_up_dim_up);
  EXPECT_EQ(from_yaml<FeedForwardConfig>("embedding_dim: 0o100\nact_fn: 'relu^2'").embedding_dim, 64);
  const auto s = from_yaml<sLSTMLayerConfig>("embedding_dim: 8\nnum_heads: 2\ndtype_r: ~\ndtype_w: float16");
  EXPECT_FALSE(s.dtype_r.has_value());
  EXPECT_EQ(s.dtype_w.value_or(""), "float16");
}

// ------------------------------------------------------------------------------------------ fixture configs

TEST(ConfigFixtures, FeedForward) {
  const auto c = from_yaml_file<FeedForwardConfig>(testing::fixture_path("feedforward", "config.yaml"));
  EXPECT_EQ(c.embedding_dim, 32);
  EXPECT_EQ(c.proj_factor, 1.3);
  EXPECT_EQ(c._proj_up_dim, 64);
}

TEST(ConfigFixtures, MLSTMLayer) {
  const auto c = from_yaml_file<mLSTMLayerConfig>(testing::fixture_path("mlstm_layer", "config.yaml"));
  EXPECT_EQ(c.embedding_dim, 32);
  EXPECT_EQ(c.num_heads, 2);
  EXPECT_EQ(c.context_length, 16);
  EXPECT_EQ(c._inner_embedding_dim, 64);
}

TEST(ConfigFixtures, SLSTMLayer) {
  const auto c = from_yaml_file<sLSTMLayerConfig>(testing::fixture_path("slstm_layer", "config.yaml"));
  EXPECT_EQ(c.hidden_size, 32);
  EXPECT_EQ(c.head_dim(), 16);
  EXPECT_EQ(c.backend, "vanilla");
  EXPECT_EQ(c.recurrent_weight_init, "standard");
  EXPECT_EQ(c.num_states, 4);
}

TEST(ConfigFixtures, BlockStack) {
  const auto c = from_yaml_file<xLSTMBlockStackConfig>(testing::fixture_path("block_stack", "config.yaml"));
  EXPECT_EQ(c._block_map, "0,1,0,0");
  EXPECT_EQ(c.block_map(), (std::vector<int>{0, 1, 0, 0}));
  const auto& m = c.mlstm_block->mlstm;
  EXPECT_EQ(m.embedding_dim, 64);
  EXPECT_EQ(m.context_length, 32);
  EXPECT_EQ(m._num_blocks, 4);
  EXPECT_EQ(m._inner_embedding_dim, 128);
  const auto& s = *c.slstm_block;
  EXPECT_EQ(s.slstm.embedding_dim, 64);
  EXPECT_EQ(s.slstm._num_blocks, 4);
  EXPECT_EQ(s.feedforward->embedding_dim, 64);
  EXPECT_EQ(s.feedforward->_proj_up_dim, 128);
  EXPECT_EQ(c.slstm_block_config(1).slstm._block_idx, 1);
  EXPECT_EQ(c.mlstm_block_config(3).mlstm._block_idx, 3);
}

TEST(ConfigFixtures, LMModel) {
  const auto c = from_yaml_file<xLSTMLMModelConfig>(testing::fixture_path("lm_model", "config.yaml"));
  EXPECT_EQ(c.vocab_size, 50);
  EXPECT_EQ(c._block_map, "0,1,0");
  EXPECT_EQ(c.mlstm_block->mlstm.context_length, 24);
  EXPECT_EQ(c.slstm_block->slstm._num_blocks, 3);
}

TEST(ConfigFixtures, XLSTMLarge) {
  const auto c = from_yaml_file<xLSTMLargeConfig>(testing::fixture_path("xlstm_large", "config.yaml"));
  EXPECT_EQ(c.qk_dim(), 64);
  EXPECT_EQ(c.v_dim(), 128);
  EXPECT_EQ(c.qk_head_dim(), 32);
  EXPECT_EQ(c.v_head_dim(), 64);
  EXPECT_EQ(c.ffn_dim(), 384);
  EXPECT_EQ(c.mode, "inference");
  EXPECT_EQ(c.chunk_size, 16);
}

// ------------------------------------------------------------------------------------------ shipped configs

TEST(ConfigShipped, ReadmeLM) {
  const auto c = from_yaml_file<xLSTMLMModelConfig>(testing::source_path("configs/xlstm_lm_readme.yaml"));
  EXPECT_EQ(c.vocab_size, 50304);
  EXPECT_EQ(c.embedding_dim, 128);
  EXPECT_EQ(c.context_length, 256);
  EXPECT_EQ(c._block_map, "0,1,0,0,0,0,0");
  EXPECT_EQ(c.mlstm_block->mlstm._inner_embedding_dim, 256);
  EXPECT_EQ(c.mlstm_block->mlstm.num_heads, 4);
  EXPECT_EQ(c.slstm_block->slstm.backend, "cuda");
  EXPECT_EQ(c.slstm_block->slstm.bias_init, "powerlaw_blockdependent");
  EXPECT_EQ(c.slstm_block->feedforward->proj_factor, 1.3);
  EXPECT_EQ(c.slstm_block->feedforward->_proj_up_dim, 192);
}

TEST(ConfigShipped, XLSTM7B) {
  const auto c = from_yaml_file<xLSTMLargeConfig>(testing::source_path("configs/xlstm_7b.yaml"));
  EXPECT_EQ(c.embedding_dim, 4096);
  EXPECT_EQ(c.num_heads, 8);
  EXPECT_EQ(c.num_blocks, 32);
  EXPECT_EQ(c.vocab_size, 50304);
  EXPECT_EQ(c.qk_dim(), 2048);
  EXPECT_EQ(c.v_dim(), 4096);
  EXPECT_EQ(c.qk_head_dim(), 256);
  EXPECT_EQ(c.v_head_dim(), 512);
  EXPECT_EQ(c.ffn_dim(), 10944);
  EXPECT_EQ(c.chunkwise_kernel, "chunkwise--triton_xl_chunk");
  EXPECT_EQ(c.mode, "inference");
  EXPECT_TRUE(c.return_last_states);
}

// The model sections of experiments/parity_xlstm{01,10,11}.yaml (spec §8.1).
std::string parity_model(const std::string& slstm_block, const std::string& slstm_at) {
  return "num_blocks: 2\nembedding_dim: 64\nmlstm_block:\n  mlstm:\n    num_heads: 1\nslstm_block: " + slstm_block +
         "\nslstm_at: " + slstm_at + "\ncontext_length: 256\nvocab_size: 3\n";
}

TEST(ConfigShipped, ParityExperimentModels) {
  const auto c01 = from_yaml<xLSTMLMModelConfig>(parity_model("\n  slstm:\n    num_heads: 1", "[0, 1]"));
  EXPECT_EQ(c01._block_map, "1,1");
  EXPECT_EQ(c01.slstm_block->slstm.num_heads, 1);
  EXPECT_EQ(c01.slstm_block->slstm.backend, "cuda");
  const auto c10 = from_yaml<xLSTMLMModelConfig>(parity_model("{}", "[]"));
  EXPECT_EQ(c10._block_map, "0,0");
  EXPECT_EQ(c10.slstm_block->slstm.num_heads, 4);
  EXPECT_EQ(c10.mlstm_block->mlstm._inner_embedding_dim, 128);
  const auto c11 = from_yaml<xLSTMLMModelConfig>(parity_model("{slstm: {num_heads: 1}}", "[1]"));
  EXPECT_EQ(c11._block_map, "0,1");
  EXPECT_EQ(c11.vocab_size, 3);
  EXPECT_EQ(c11.mlstm_block->mlstm.context_length, 256);
  EXPECT_EQ(c11.slstm_block->feedforward->_proj_up_dim, 128);
}

// ------------------------------------------------------------------------------------------ round trips

template <class C>
void expect_round_trip(const C& config) {
  const std::string yaml = to_yaml(config);
  SCOPED_TRACE(yaml);
  const C back = from_yaml<C>(yaml);
  EXPECT_EQ(back, config);
  EXPECT_EQ(to_yaml(back), yaml);
}

TEST(ConfigRoundTrip, MinimalConfigs) {
  expect_round_trip(from_yaml<mLSTMLayerConfig>("embedding_dim: 64"));
  expect_round_trip(from_yaml<mLSTMBlockConfig>("mlstm: {embedding_dim: 64}"));
  expect_round_trip(from_yaml<sLSTMLayerConfig>("embedding_dim: 64"));
  expect_round_trip(from_yaml<FeedForwardConfig>("embedding_dim: 64"));
  expect_round_trip(from_yaml<sLSTMBlockConfig>("slstm: {embedding_dim: 64}"));
  expect_round_trip(from_yaml<xLSTMBlockStackConfig>("slstm_block: {}"));
  expect_round_trip(from_yaml<xLSTMLMModelConfig>("vocab_size: 5\nmlstm_block: {}"));
  expect_round_trip(from_yaml<xLSTMLargeConfig>("embedding_dim: 64\nnum_heads: 2\nnum_blocks: 1\nvocab_size: 5"));
}

TEST(ConfigRoundTrip, FixtureShippedAndParityConfigs) {
  expect_round_trip(from_yaml_file<FeedForwardConfig>(testing::fixture_path("feedforward", "config.yaml")));
  expect_round_trip(from_yaml_file<mLSTMLayerConfig>(testing::fixture_path("mlstm_layer", "config.yaml")));
  expect_round_trip(from_yaml_file<sLSTMLayerConfig>(testing::fixture_path("slstm_layer", "config.yaml")));
  expect_round_trip(from_yaml_file<xLSTMBlockStackConfig>(testing::fixture_path("block_stack", "config.yaml")));
  expect_round_trip(from_yaml_file<xLSTMLMModelConfig>(testing::fixture_path("lm_model", "config.yaml")));
  expect_round_trip(from_yaml_file<xLSTMLargeConfig>(testing::fixture_path("xlstm_large", "config.yaml")));
  expect_round_trip(from_yaml_file<xLSTMLMModelConfig>(testing::source_path("configs/xlstm_lm_readme.yaml")));
  expect_round_trip(from_yaml_file<xLSTMLargeConfig>(testing::source_path("configs/xlstm_7b.yaml")));
  expect_round_trip(from_yaml<xLSTMLMModelConfig>(parity_model("{}", "[]")));
}

TEST(ConfigRoundTrip, DoublesAreExact) {
  const double values[] = {0.1 + 0.2, 1.0 / 3.0, -2.5e-310, 5e-324, 1.7976931348623157e308, -0.0, 1e16, 1e-5,
                           123456789.125, 2.6667};
  for (const double value : values) {
    sLSTMLayerConfig c = from_yaml<sLSTMLayerConfig>("embedding_dim: 8\nnum_heads: 2");
    c.initial_val = value;
    const auto back = from_yaml<sLSTMLayerConfig>(to_yaml(c));
    EXPECT_EQ(std::memcmp(&back.initial_val, &value, sizeof value), 0) << to_yaml(c);
  }
  // Written as a person would: shortest form, with a '.' so that YAML 1.1 readers see floats too.
  const std::string yaml = to_yaml(from_yaml<xLSTMLargeConfig>("embedding_dim: 64\nnum_heads: 2\nnum_blocks: 1\nvocab_size: 5"));
  EXPECT_NE(yaml.find("\nnorm_eps: 1.0e-06\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("\nffn_proj_factor: 2.6667\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("\ngate_soft_cap: 15.0\n"), std::string::npos) << yaml;
}

TEST(ConfigRoundTrip, StringsThatNeedQuotes) {
  // Each string is written quoted (YAML 1.1 booleans too, for PyYAML readers) and must come back
  // as that string: the reader then rejects it as an unknown act_fn.
  struct Case {
    std::string value, shown;
  };
  for (const Case& c : {Case{"true", "\"true\""}, Case{"True", "\"True\""}, Case{"Off", "\"Off\""},
                        Case{"null", "\"null\""}, Case{"~", "\"~\""}, Case{"123", "\"123\""}, Case{"0x1F", "\"0x1F\""},
                        Case{".inf", "\".inf\""},
                        Case{"1.5", "\"1.5\""}, Case{"yes", "\"yes\""}, Case{"a: b", "\"a: b\""},
                        Case{"#x", "\"#x\""}, Case{"", "\"\""}, Case{" lead", "\" lead\""}, Case{"[x]", "\"[x]\""},
                        Case{"q\"t", "\"q\\\"t\""}, Case{"tab\there", "\"tab\\there\""}, Case{"line\nbreak", "\"line\\nbreak\""}}) {
    FeedForwardConfig f = from_yaml<FeedForwardConfig>("embedding_dim: 64");
    f.act_fn = c.value;
    const std::string yaml = to_yaml(f);
    EXPECT_NE(yaml.find("\nact_fn: " + c.shown + "\n"), std::string::npos) << yaml;
    try {
      from_yaml<FeedForwardConfig>(yaml);
      ADD_FAILURE() << "act_fn " << c.shown << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key_path(), "act_fn");
      EXPECT_NE(std::string(e.what()).find("act_fn: " + c.shown + " is not one of"), std::string::npos) << e.what();
    }
  }
}

// Random user-field values of the member's type; the configs that validate() accepts must round-trip.
class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  template <class C>
  void mutate(C& config) {
    config.fields([&](const char*, auto& member, FieldKind kind) {
      if (kind == FieldKind::user && coin(0.3)) mutate_value(member);
    });
  }

 private:
  bool coin(double p) { return std::bernoulli_distribution(p)(rng_); }
  double random_double() {
    // Full-precision values over many magnitudes, so that exact formatting matters.
    const double exponent = std::uniform_real_distribution<double>(-9, 2)(rng_);
    return std::uniform_real_distribution<double>(0, 1)(rng_) * std::pow(10.0, exponent);
  }

  template <class T>
  void mutate_value(T& v) {
    if constexpr (std::is_same_v<T, bool>) {
      v = !v;
    } else if constexpr (std::is_same_v<T, int64_t>) {
      if (v > 0) v *= coin(0.5) ? 2 : 1;
    } else if constexpr (std::is_same_v<T, double>) {
      v = coin(0.5) ? std::uniform_real_distribution<double>(0, 1)(rng_) : random_double();
    } else if constexpr (std::is_same_v<T, std::optional<double>>) {
      v = coin(0.5) ? std::nullopt : std::optional<double>(random_double());
    } else if constexpr (IsOptional<T>::value && !std::is_same_v<T, std::optional<std::string>>) {
      if (coin(0.3))
        v.reset();
      else
        mutate(v.emplace());
    } else if constexpr (!std::is_same_v<T, std::string> && !std::is_same_v<T, std::vector<int64_t>> &&
                         !IsOptional<T>::value) {
      mutate(v);  // a nested config
    }
  }

  std::mt19937_64 rng_;
};

template <class C>
int round_trip_mutations(const C& base, uint64_t seed) {
  Mutator mutator(seed);
  int valid = 0;
  for (int i = 0; i < 200; ++i) {
    C c = base;
    mutator.mutate(c);
    c.post_init();
    try {
      c.validate();
    } catch (const ConfigError&) {
      continue;
    }
    ++valid;
    const std::string yaml = to_yaml(c);
    const C back = from_yaml<C>(yaml);
    if (back != c) {
      ADD_FAILURE() << "round trip changed the config:\n" << yaml << "\n-- read back and written again:\n" << to_yaml(back);
      break;
    }
  }
  return valid;
}

TEST(ConfigRoundTrip, RandomlyMutatedConfigs) {
  const auto lm = from_yaml_file<xLSTMLMModelConfig>(testing::fixture_path("lm_model", "config.yaml"));
  EXPECT_GE(round_trip_mutations(lm, 1), 20);
  const auto stack = from_yaml_file<xLSTMBlockStackConfig>(testing::fixture_path("block_stack", "config.yaml"));
  EXPECT_GE(round_trip_mutations(stack, 2), 20);
  const auto slstm = from_yaml_file<sLSTMLayerConfig>(testing::fixture_path("slstm_layer", "config.yaml"));
  EXPECT_GE(round_trip_mutations(slstm, 3), 20);
  const auto mlstm = from_yaml_file<mLSTMLayerConfig>(testing::fixture_path("mlstm_layer", "config.yaml"));
  EXPECT_GE(round_trip_mutations(mlstm, 4), 20);
  const auto large = from_yaml_file<xLSTMLargeConfig>(testing::fixture_path("xlstm_large", "config.yaml"));
  EXPECT_GE(round_trip_mutations(large, 5), 20);
}

// ------------------------------------------------------------------------------------------ equality

// A different value of the same type (a nested config differs in its first field).
template <class T>
void perturb(T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    v = !v;
  } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>) {
    v += 1;
  } else if constexpr (std::is_same_v<T, std::string>) {
    v += "x";
  } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
    v.push_back(7);
  } else if constexpr (IsOptional<T>::value) {
    if (v)
      perturb(*v);  // both set, values differ (unset vs set is checked in expect_every_field_compared)
    else
      v.emplace();
  } else {
    bool done = false;
    v.fields([&](const char*, auto& member, FieldKind) {
      if (!done) perturb(member);
      done = true;
    });
  }
}

template <class C>
void expect_every_field_compared(const C& base) {
  EXPECT_EQ(base, base);
  int count = 0;
  C(base).fields([&](const char*, auto&, FieldKind) { ++count; });
  for (int k = 0; k < count; ++k) {
    C changed = base;
    int index = 0;
    const char* changed_name = nullptr;
    changed.fields([&](const char* name, auto& member, FieldKind) {
      if (index++ == k) perturb(member), changed_name = name;
    });
    EXPECT_NE(changed, base) << changed_name;
  }
  // An optional that is set differs from the same optional unset.
  C(base).fields([&](const char* name, auto& member, FieldKind) {
    using T = std::decay_t<decltype(member)>;
    if constexpr (IsOptional<T>::value) {
      C unset = base, set = base;
      unset.fields([&](const char* n, auto& m, FieldKind) {
        if constexpr (std::is_same_v<std::decay_t<decltype(m)>, T>)
          if (std::strcmp(n, name) == 0) m.reset();
      });
      set.fields([&](const char* n, auto& m, FieldKind) {
        if constexpr (std::is_same_v<std::decay_t<decltype(m)>, T>)
          if (std::strcmp(n, name) == 0 && !m) m.emplace();
      });
      EXPECT_NE(unset, set) << name;
    }
  });
}

TEST(ConfigEqual, EveryFieldIsCompared) {
  expect_every_field_compared(from_yaml_file<xLSTMLMModelConfig>(testing::fixture_path("lm_model", "config.yaml")));
  expect_every_field_compared(from_yaml_file<sLSTMLayerConfig>(testing::fixture_path("slstm_layer", "config.yaml")));
  expect_every_field_compared(from_yaml_file<mLSTMLayerConfig>(testing::fixture_path("mlstm_layer", "config.yaml")));
  expect_every_field_compared(from_yaml_file<FeedForwardConfig>(testing::fixture_path("feedforward", "config.yaml")));
  expect_every_field_compared(from_yaml_file<xLSTMLargeConfig>(testing::fixture_path("xlstm_large", "config.yaml")));
  expect_every_field_compared(mLSTMBlockConfig());
  expect_every_field_compared(sLSTMBlockConfig());
  expect_every_field_compared(xLSTMBlockStackConfig());
}

}  // namespace
}  // namespace xlstm
