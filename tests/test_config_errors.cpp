// Config errors: every class of bad YAML input and every validate() rule raises a ConfigError whose
// key_path() is the offending field and whose message names that path and the value.
#include <gtest/gtest.h>

#include <fstream>
#include <initializer_list>
#include <string>

#include "xlstm/config.h"

namespace xlstm {
namespace {

// Parses `yaml` as C and expects a ConfigError at `key_path` whose message starts with the path
// and contains every piece of `contains`.
template <class C>
void expect_error(const std::string& yaml, const std::string& key_path, std::initializer_list<std::string> contains) {
  SCOPED_TRACE("YAML:\n" + yaml);
  try {
    from_yaml<C>(yaml);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.key_path(), key_path) << what;
    if (!key_path.empty()) EXPECT_EQ(what.rfind(key_path + ": ", 0), 0u) << what;
    for (const auto& piece : contains) EXPECT_NE(what.find(piece), std::string::npos) << "'" << piece << "' not in: " << what;
  }
}

// Valid bases that the cases extend with one more key.
const std::string kLargeNoHeads = "embedding_dim: 128\nnum_blocks: 2\nvocab_size: 64\n";
const std::string kLarge = kLargeNoHeads + "num_heads: 2\n";
const std::string kStack = "num_blocks: 3\nmlstm_block: {}\nslstm_block: {}\n";

// ------------------------------------------------------------------------------------------ YAML input

TEST(ConfigYamlErrors, UnknownKeysWithSuggestion) {
  expect_error<xLSTMLMModelConfig>("vocab_size: 5\nmlstm_block:\n  mlstm:\n    num_head: 4\n", "mlstm_block.mlstm.num_head",
                                   {"unknown key (did you mean num_heads?)"});
  expect_error<FeedForwardConfig>("embedding_dim: 64\nwhatever: 1\n", "whatever", {"unknown key"});
  expect_error<FeedForwardConfig>("embedding_dim: 64\n\"1\": 1\n", "\"1\"", {"unknown key"});
  // Fields of the other family are unknown too.
  expect_error<xLSTMLargeConfig>(kLarge + "slstm_at: [1]\n", "slstm_at", {"unknown key"});
}

TEST(ConfigYamlErrors, WrongTypes) {
  expect_error<FeedForwardConfig>("embedding_dim: abc", "embedding_dim", {"expected an integer, got \"abc\""});
  expect_error<FeedForwardConfig>("embedding_dim: 2.5", "embedding_dim", {"expected an integer, got 2.5"});
  expect_error<FeedForwardConfig>("embedding_dim: '64'", "embedding_dim", {"expected an integer, got \"64\""});
  expect_error<FeedForwardConfig>("embedding_dim: [64]", "embedding_dim", {"expected an integer, got a list"});
  expect_error<FeedForwardConfig>("embedding_dim: {a: 1}", "embedding_dim", {"expected an integer, got a mapping"});
  expect_error<FeedForwardConfig>("embedding_dim: null", "embedding_dim", {"expected an integer, got null"});
  expect_error<FeedForwardConfig>("embedding_dim: 9223372036854775808", "embedding_dim",
                                  {"9223372036854775808 does not fit in a 64-bit integer"});
  expect_error<FeedForwardConfig>("embedding_dim: 64\nproj_factor: fast", "proj_factor", {"expected a number, got \"fast\""});
  expect_error<FeedForwardConfig>("embedding_dim: 64\nproj_factor: .inf", "proj_factor", {"expected a finite number, got .inf"});
  expect_error<FeedForwardConfig>("embedding_dim: 64\nproj_factor: 1e999", "proj_factor", {"expected a finite number, got 1e999"});
  expect_error<FeedForwardConfig>("embedding_dim: 64\nact_fn: 3", "act_fn", {"expected a string, got 3"});
  expect_error<FeedForwardConfig>("embedding_dim: 64\nact_fn: true", "act_fn", {"expected a string, got true"});
  expect_error<FeedForwardConfig>("embedding_dim: 64\nact_fn: !!str gelu", "act_fn",
                                  {"explicit YAML tags are not supported", "tag:yaml.org,2002:str"});
  expect_error<mLSTMBlockConfig>("mlstm: null", "mlstm", {"expected a mapping, got null"});
  expect_error<xLSTMBlockStackConfig>("slstm_block: 3", "slstm_block", {"expected a mapping, got 3"});
  expect_error<xLSTMBlockStackConfig>("slstm_block: {}\nslstm_at: [0, x]", "slstm_at[1]",
                                      {"expected an integer, got \"x\""});
  expect_error<xLSTMBlockStackConfig>("slstm_block: {}\nslstm_at: ALL", "slstm_at",
                                      {"expected a list of integers, got \"ALL\""});
  expect_error<sLSTMLayerConfig>("embedding_dim: 8\ngradient_recurrent_clipval: []", "gradient_recurrent_clipval",
                                 {"expected a number, got a list"});
}

TEST(ConfigYamlErrors, BooleansAreYaml12) {
  expect_error<FeedForwardConfig>("embedding_dim: 64\nbias: yes", "bias",
                                  {"expected true or false, got \"yes\"", "YAML 1.2"});
  expect_error<FeedForwardConfig>("embedding_dim: 64\nbias: 1", "bias", {"expected true or false, got 1"});
  expect_error<FeedForwardConfig>("embedding_dim: 64\nbias: 'true'", "bias", {"expected true or false, got \"true\""});
}

TEST(ConfigYamlErrors, SyntaxErrorsGiveLineAndColumn) {
  expect_error<FeedForwardConfig>("embedding_dim: 64\nact_fn: [gelu\n", "", {"YAML syntax error at line", "column"});
  expect_error<FeedForwardConfig>("embedding_dim: 64\n  bias: true\n", "", {"YAML syntax error at line 2, column"});
  // Nesting deep enough to exhaust a recursive parser is an error, not a crash.
  expect_error<FeedForwardConfig>("a: " + std::string(100000, '['), "", {"YAML syntax error"});
}

TEST(ConfigYamlErrors, DocumentMustBeOneMapping) {
  expect_error<FeedForwardConfig>("", "", {"empty"});
  expect_error<FeedForwardConfig>("# nothing\n", "", {"empty"});
  expect_error<FeedForwardConfig>("[1, 2]", "", {"expected a mapping of config fields, got a list"});
  expect_error<FeedForwardConfig>("gelu", "", {"expected a mapping of config fields, got \"gelu\""});
  expect_error<FeedForwardConfig>("embedding_dim: 64\n---\nembedding_dim: 32\n", "", {"expected one YAML document, got 2"});
  expect_error<FeedForwardConfig>("embedding_dim: 64\nembedding_dim: 32\n", "embedding_dim", {"duplicate key"});
  expect_error<FeedForwardConfig>("? [a]\n: 1\n", "", {"keys must be field names, got a list"});
}

TEST(ConfigYamlErrors, CyclicAliasesEndInAnError) {
  expect_error<xLSTMBlockStackConfig>("mlstm_block: &a {mlstm: *a}", "mlstm_block.mlstm.mlstm", {"unknown key"});
}

TEST(ConfigYamlErrors, FilesNameThemselves) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/xlstm_config_errors_test.yaml";
  std::ofstream(path) << "embedding_dim: 64\nnum_heads: 3\n";
  try {
    from_yaml_file<sLSTMLayerConfig>(path);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": num_heads: 3 does not divide 64 (embedding_dim)");
    EXPECT_EQ(e.key_path(), "num_heads");
  }
  for (const std::string& missing : {dir + "/no_such_config.yaml", dir}) {
    try {
      from_yaml_file<sLSTMLayerConfig>(missing);
      ADD_FAILURE() << "no error for " << missing;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("cannot read config file " + missing + ": "), std::string::npos) << e.what();
    }
  }
}

// ------------------------------------------------------------------------------------------ validate()

TEST(ConfigValidation, SizesMustBePositive) {
  expect_error<FeedForwardConfig>("proj_factor: 1.0", "embedding_dim", {"-1 must be a positive integer"});
  expect_error<xLSTMLMModelConfig>(kStack + "embedding_dim: 0", "embedding_dim", {"0 must be a positive integer"});
  expect_error<xLSTMLMModelConfig>(kStack, "vocab_size", {"-1 must be a positive integer"});
  expect_error<xLSTMBlockStackConfig>("slstm_block: {}\nnum_blocks: 0", "num_blocks", {"0 must be a positive integer"});
  expect_error<xLSTMBlockStackConfig>("slstm_block: {}\nnum_blocks: 1000000000000", "num_blocks",
                                      {"1000000000000 is more than the supported maximum of 65536"});
  expect_error<xLSTMBlockStackConfig>("slstm_block: {}\nnum_blocks: 1000000000000\nslstm_at: all", "num_blocks",
                                      {"1000000000000"});
  expect_error<xLSTMBlockStackConfig>(kStack + "context_length: 0", "context_length",
                                      {"0 must be a positive length or -1 (unset)"});
  expect_error<mLSTMLayerConfig>("embedding_dim: 64\nconv1d_kernel_size: -1", "conv1d_kernel_size", {"-1 must be 0 or more"});
  expect_error<sLSTMLayerConfig>("embedding_dim: 64\nconv1d_kernel_size: -2", "conv1d_kernel_size", {"-2 must be 0 or more"});
  expect_error<mLSTMLayerConfig>("embedding_dim: 64\nqkv_proj_blocksize: 0", "qkv_proj_blocksize", {"0 must be a positive integer"});
  expect_error<mLSTMLayerConfig>("embedding_dim: 64\nchunk_size: -64", "chunk_size", {"-64 must be a positive integer"});
  expect_error<FeedForwardConfig>("embedding_dim: 64\nround_proj_up_to_multiple_of: 0", "round_proj_up_to_multiple_of",
                                  {"0 must be a positive integer"});
  expect_error<sLSTMLayerConfig>("embedding_dim: 64\nbatch_size: 0", "batch_size", {"0 must be a positive integer"});
}

TEST(ConfigValidation, HeadsMustDivideTheWidth) {
  expect_error<xLSTMBlockStackConfig>("embedding_dim: 128\nmlstm_block:\n  mlstm:\n    num_heads: 3\n",
                                      "mlstm_block.mlstm.num_heads", {"3 does not divide 256"});
  expect_error<xLSTMBlockStackConfig>("embedding_dim: 64\nslstm_block:\n  slstm:\n    num_heads: 5\n",
                                      "slstm_block.slstm.num_heads", {"5 does not divide 64 (embedding_dim)"});
  expect_error<mLSTMLayerConfig>("embedding_dim: 64\nqkv_proj_blocksize: 5", "qkv_proj_blocksize", {"5 does not divide 128"});
  expect_error<mLSTMLayerConfig>("embedding_dim: 64\nnum_heads: -2", "num_heads", {"-2 must be a positive integer"});
}

TEST(ConfigValidation, ProjectionFactors) {
  expect_error<mLSTMLayerConfig>("embedding_dim: 64\nproj_factor: 0", "proj_factor", {"0.0 must be a positive number"});
  expect_error<FeedForwardConfig>("embedding_dim: 64\nproj_factor: -1.3", "proj_factor", {"-1.3 must be a positive number"});
  expect_error<FeedForwardConfig>("embedding_dim: 64\nproj_factor: 0.5\nround_proj_up_dim_up: false", "proj_factor",
                                  {"0.5 times embedding_dim 64 = 32.0 rounds down to 0"});
  expect_error<mLSTMLayerConfig>("embedding_dim: 64\nproj_factor: 1e300", "proj_factor",
                                 {"1.0e+300 times embedding_dim 64", "too large"});
}

TEST(ConfigValidation, SlstmAt) {
  expect_error<xLSTMBlockStackConfig>(kStack + "slstm_at: [0, 3]", "slstm_at[1]", {"3 is not a block index (num_blocks is 3)"});
  expect_error<xLSTMBlockStackConfig>(kStack + "slstm_at: [-1]", "slstm_at[0]", {"-1 is not a block index"});
  expect_error<xLSTMBlockStackConfig>(kStack + "slstm_at: [2, 1, 2]", "slstm_at[2]", {"2 is listed twice"});
  expect_error<xLSTMBlockStackConfig>("mlstm_block: {}\nnum_blocks: 2\nslstm_at: [1]", "slstm_block",
                                      {"null, but slstm_at [1] asks for sLSTM blocks"});
}

TEST(ConfigValidation, MLSTMBlockMissing) {
  // post_init() makes every block an sLSTM block without an mlstm_block; a later edit can still
  // ask for mLSTM blocks.
  xLSTMBlockStackConfig c;
  c.num_blocks = 3;
  c.slstm_block = sLSTMBlockConfig();
  c.post_init();
  c.validate();
  c.slstm_at = {1};
  try {
    c.validate("model");
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "model.mlstm_block");
    EXPECT_NE(std::string(e.what()).find("model.mlstm_block: null, but blocks [0, 2] are not in slstm_at"), std::string::npos)
        << e.what();
  }
}

TEST(ConfigValidation, Probabilities) {
  expect_error<xLSTMBlockStackConfig>(kStack + "dropout: 1.0", "dropout", {"1.0 is not a probability in [0, 1)"});
  expect_error<FeedForwardConfig>("embedding_dim: 64\ndropout: -0.1", "dropout", {"-0.1 is not a probability"});
  expect_error<sLSTMLayerConfig>("embedding_dim: 64\ndropout: 2", "dropout", {"2.0 is not a probability"});
}

TEST(ConfigValidation, NamedChoices) {
  struct Case {
    std::string yaml, path, shown;
  };
  const std::string s = "embedding_dim: 64\n";
  for (const Case& c : {Case{s + "act_fn: tanh", "act_fn", "\"tanh\" is not one of gelu, relu, relu^2, sigmoid, swish, selu"},
                        Case{s + "ff_type: ffn", "ff_type", "\"ffn\" is not one of ffn_gated"}}) {
    expect_error<FeedForwardConfig>(c.yaml, c.path, {c.shown});
  }
  for (const Case& c : {Case{s + "backend: triton", "backend", "\"triton\" is not one of vanilla, cuda"},
                        Case{s + "function: gru", "function", "\"gru\" is not one of slstm, lstm"},
                        Case{s + "bias_init: ones", "bias_init",
                             "\"ones\" is not one of powerlaw_blockdependent, small_init, standard, zeros"},
                        Case{s + "recurrent_weight_init: small_init", "recurrent_weight_init", "\"small_init\" is not one of zeros, standard"},
                        Case{s + "dtype: float64", "dtype", "\"float64\" is not one of bfloat16, float16, float32"},
                        Case{s + "dtype_b: int8", "dtype_b", "\"int8\" is not one of"},
                        Case{s + "dtype_s: half", "dtype_s", "\"half\" is not one of"},
                        Case{s + "input_shape: BSNGH", "input_shape", "\"BSNGH\" is not one of BSGNH, SBGNH"},
                        Case{s + "internal_input_shape: BSGNH", "internal_input_shape", "is not one of SBNGH, SBGNH, SBNHG"},
                        Case{s + "output_shape: BHS", "output_shape", "\"BHS\" is not one of BNSH, SBH, BSH, SBNH"},
                        Case{s + "num_gates: 3", "num_gates", "3 is not 4"},
                        Case{s + "gradient_recurrent_clipval: 0", "gradient_recurrent_clipval", "0.0 must be a positive number"},
                        Case{s + "forward_clipval: -1", "forward_clipval", "-1.0 must be a positive number"}}) {
    expect_error<sLSTMLayerConfig>(c.yaml, c.path, {c.shown});
  }
  expect_error<mLSTMLayerConfig>(s + "backend: triton", "backend", {"\"triton\" is not one of auto, parallel, chunkwise, recurrent"});
  expect_error<xLSTMBlockStackConfig>("slstm_block:\n  feedforward:\n    act_fn: GELU\n", "slstm_block.feedforward.act_fn",
                                      {"\"GELU\" is not one of"});
}

TEST(ConfigValidation, LargeRequiredFieldsAndWidths) {
  expect_error<xLSTMLargeConfig>("num_heads: 2\nnum_blocks: 2\nvocab_size: 64", "embedding_dim",
                                 {"required: set it to a positive integer (got -1)"});
  expect_error<xLSTMLargeConfig>("embedding_dim: 128\nnum_blocks: 2\nvocab_size: 64", "num_heads", {"required", "(got -1)"});
  expect_error<xLSTMLargeConfig>("embedding_dim: 128\nnum_heads: 2\nnum_blocks: 0\nvocab_size: 64", "num_blocks",
                                 {"required", "(got 0)"});
  expect_error<xLSTMLargeConfig>("embedding_dim: 128\nnum_heads: 2\nnum_blocks: 2", "vocab_size", {"required"});
  expect_error<xLSTMLargeConfig>(kLargeNoHeads + "num_heads: 3", "num_heads",
                                 {"3 does not divide 64 (qk_dim = embedding_dim * qk_dim_factor)"});
  expect_error<xLSTMLargeConfig>(kLargeNoHeads + "num_heads: 16\nv_dim_factor: 0.5625", "num_heads",
                                 {"16 does not divide 72 (v_dim = embedding_dim * v_dim_factor)"});
  expect_error<xLSTMLargeConfig>(kLarge + "qk_dim_factor: 0.001", "qk_dim_factor",
                                 {"0.001 times embedding_dim 128 = 0.128 is not a usable qk_dim"});
  expect_error<xLSTMLargeConfig>(kLarge + "v_dim_factor: 0", "v_dim_factor", {"0.0 must be a positive number"});
  expect_error<xLSTMLargeConfig>(kLarge + "ffn_proj_factor: 1e300", "ffn_proj_factor", {"is not a usable FFN width"});
  expect_error<xLSTMLargeConfig>(kLarge + "ffn_round_up_to_multiple_of: 4611686018427387904", "ffn_proj_factor",
                                 {"2.6667 gives an FFN width of"});
  expect_error<xLSTMLargeConfig>(kLarge + "ffn_round_up_to_multiple_of: 0", "ffn_round_up_to_multiple_of",
                                 {"0 must be a positive integer"});
  expect_error<xLSTMLargeConfig>(kLarge + "chunk_size: 0", "chunk_size", {"0 must be a positive integer"});
  expect_error<xLSTMLargeConfig>(kLarge + "norm_eps: 0", "norm_eps", {"0.0 must be a positive number"});
  expect_error<xLSTMLargeConfig>(kLarge + "eps: -1e-6", "eps", {"-1.0e-06 must be a positive number"});
  expect_error<xLSTMLargeConfig>(kLarge + "gate_soft_cap: 0", "gate_soft_cap", {"0.0 must be a positive number"});
  expect_error<xLSTMLargeConfig>(kLarge + "output_logit_soft_cap: -30", "output_logit_soft_cap", {"-30.0 must be"});
  // Soft caps may be switched off.
  EXPECT_FALSE(from_yaml<xLSTMLargeConfig>(kLarge + "gate_soft_cap: null").gate_soft_cap);
}

TEST(ConfigValidation, LargeNamesAndBackendRules) {
  for (const auto& name : known_chunkwise_kernels())
    EXPECT_EQ(from_yaml<xLSTMLargeConfig>(kLarge + "chunkwise_kernel: " + name).chunkwise_kernel, name);
  for (const auto& name : known_sequence_kernels())
    EXPECT_EQ(from_yaml<xLSTMLargeConfig>(kLarge + "sequence_kernel: " + name).sequence_kernel, name);
  for (const auto& name : known_step_kernels())
    EXPECT_EQ(from_yaml<xLSTMLargeConfig>(kLarge + "step_kernel: " + name).step_kernel, name);
  EXPECT_EQ(known_chunkwise_kernels().size(), 12u);

  expect_error<xLSTMLargeConfig>(kLarge + "chunkwise_kernel: chunkwise--flash", "chunkwise_kernel",
                                 {"\"chunkwise--flash\" is not one of chunkwise--native_autograd,", "parallel--native_siging_custbw"});
  expect_error<xLSTMLargeConfig>(kLarge + "sequence_kernel: native", "sequence_kernel",
                                 {"\"native\" is not one of native_sequence__native, native_sequence__triton"});
  expect_error<xLSTMLargeConfig>(kLarge + "step_kernel: cuda", "step_kernel", {"\"cuda\" is not one of native, triton"});
  expect_error<xLSTMLargeConfig>(kLarge + "mode: eval", "mode", {"\"eval\" is not one of train, train_with_padding, inference"});
  expect_error<xLSTMLargeConfig>(kLarge + "weight_mode: split", "weight_mode", {"\"split\" is not one of single, fused"});
  expect_error<xLSTMLargeConfig>(kLarge + "autocast_kernel_dtype: fp16", "autocast_kernel_dtype", {"\"fp16\" is not one of"});
  expect_error<xLSTMLargeConfig>(kLarge + "inference_state_dtype: float64", "inference_state_dtype", {"\"float64\""});
  expect_error<xLSTMLargeConfig>(kLarge + "return_last_states: true\nchunkwise_kernel: parallel--native_custbw",
                                 "return_last_states", {"true, but chunkwise_kernel \"parallel--native_custbw\" returns no states"});
  expect_error<xLSTMLargeConfig>(kLarge + "return_last_states: true\nmode: train_with_padding", "return_last_states",
                                 {"true, but mode \"train_with_padding\" returns no states"});
  // Without return_last_states both are fine.
  EXPECT_EQ(from_yaml<xLSTMLargeConfig>(kLarge + "chunkwise_kernel: parallel--native_custbw\nmode: train_with_padding").mode,
            "train_with_padding");
}

TEST(ConfigValidation, DerivedBlockPositions) {
  expect_error<mLSTMLayerConfig>("embedding_dim: 64\n_num_blocks: 0", "_num_blocks", {"0 must be a positive integer"});
  expect_error<sLSTMLayerConfig>("embedding_dim: 64\n_block_idx: 1", "_block_idx", {"1 is not a block index below _num_blocks 1"});
}

}  // namespace
}  // namespace xlstm
