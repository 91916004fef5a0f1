// config.json of Hugging Face checkpoints (xlstm/io/hf_config.h) and hub tensor names
// (xlstm/io/hub_names.h): the 7B hub config against configs/xlstm_7b.yaml, round trips, aliases,
// defaults, and every kind of bad field.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pretrained_testing.h"
#include "temp_dir.h"
#include "testing.h"
#include "xlstm/io/hf_config.h"
#include "xlstm/io/hub_names.h"

namespace xlstm::testing {
namespace {

using json = nlohmann::json;

// The config.json of NX-AI/xLSTM-7b as published on the hub (field for field, from a transcription;
// xlstm-spec.md §6.1).
const char* kHub7bConfig = R"({
  "_name_or_path": "NX-AI/xLSTM-7b", "add_embedding_dropout": false, "add_forward_backend_padding": false,
  "add_out_norm": true, "add_post_blocks_norm": true, "add_post_norm": false, "add_qk_norm": false,
  "architectures": ["xLSTMForCausalLM"], "autocast_kernel_dtype": "bfloat16", "bos_token_id": 0,
  "cell_norm_eps": 1e-06, "chunk_size": 64, "chunkwise_kernel": "chunkwise--triton_xl_chunk",
  "embedding_dim": 4096, "eos_token_id": 2, "eps": 1e-06, "ffn_proj_factor": 2.667,
  "ffn_round_up_to_multiple_of": 64, "force_bos_token_insert": true, "gate_soft_cap": 15.0, "head_dim": 512,
  "igate_bias_init_range": -10.0, "inference_state_dtype": "float32", "mlstm_round_up_to_multiple_of": 64,
  "mode": "inference", "model_type": "xlstm", "norm_eps": 1e-06, "norm_reduction_force_float32": true,
  "num_blocks": 32, "num_heads": 8, "output_logit_soft_cap": 30.0, "pad_token_id": 1, "qk_dim_factor": 0.5,
  "return_last_states": true, "sequence_kernel": "native_sequence__triton", "step_kernel": "triton",
  "tie_word_embeddings": false, "torch_dtype": "float32", "transformers_version": "4.48.0.dev0",
  "use_bias": false, "use_cache": true, "v_dim_factor": 1.0, "vocab_size": 50304, "weight_mode": "single"
})";

TEST(PretrainedConfig, HubConfigOf7bEqualsTheShippedYaml) {
  const auto from_hub = io::large_config_from_hf_json(kHub7bConfig);
  const auto shipped = from_yaml_file<xLSTMLargeConfig>(source_path("configs/xlstm_7b.yaml"));
  EXPECT_EQ(from_hub, shipped) << to_yaml(from_hub);
}

// What transformers 5.x writes (save_pretrained of xLSTMConfig): hidden_size and num_hidden_layers
// next to embedding_dim and num_blocks, max_inference_chunksize, no head_dim.
TEST(PretrainedConfig, ReadsTheKeysTransformersWrites) {
  const auto c = io::large_config_from_hf_json(R"({
    "add_out_norm": true, "autocast_kernel_dtype": "bfloat16", "bos_token_id": 0, "chunk_size": 64,
    "chunkwise_kernel": "chunkwise--native_autograd", "embedding_dim": 128, "eos_token_id": 2, "eps": 1e-06,
    "ffn_proj_factor": 2.667, "ffn_round_up_to_multiple_of": 64, "gate_soft_cap": 15.0, "hidden_size": 128,
    "inference_state_dtype": "float32", "max_inference_chunksize": 16384, "mode": "inference",
    "model_type": "xlstm", "norm_eps": 1e-06, "norm_reduction_force_float32": true, "num_blocks": 2,
    "num_heads": 2, "num_hidden_layers": 32, "output_logit_soft_cap": 30.0, "pad_token_id": 1,
    "qk_dim_factor": 0.5, "return_last_states": true, "sequence_kernel": "native_sequence__native",
    "step_kernel": "native", "tie_word_embeddings": false, "transformers_version": "5.23.0", "use_bias": false,
    "use_cache": true, "v_dim_factor": 1.0, "vocab_size": 64, "weight_mode": "single"})");
  EXPECT_EQ(c.embedding_dim, 128);
  EXPECT_EQ(c.num_blocks, 2);  // transformers builds its blocks from num_blocks
  EXPECT_EQ(c.num_heads, 2);
  EXPECT_EQ(c.vocab_size, 64);
  EXPECT_EQ(c.ffn_dim(), 384);  // int(((128 * 2.667 + 63) // 64) * 64), as in the fixture's weights
}

TEST(PretrainedConfig, AliasesAndDefaults) {
  // Nothing given: transformers' defaults, the 7B architecture with native kernels.
  const auto defaults = io::large_config_from_hf_json("{}");
  EXPECT_EQ(defaults, io::hf_default_large_config());
  EXPECT_EQ(defaults.embedding_dim, 4096);
  EXPECT_EQ(defaults.num_blocks, 32);
  EXPECT_EQ(defaults.mode, "inference");
  EXPECT_TRUE(defaults.return_last_states);

  const auto aliased = io::large_config_from_hf_json(
      R"({"hidden_size": 256, "num_hidden_layers": 3, "embedding_dim": null, "num_heads": 4, "add_post_blocks_norm": false})");
  EXPECT_EQ(aliased.embedding_dim, 256);
  EXPECT_EQ(aliased.num_blocks, 3);
  EXPECT_FALSE(aliased.add_out_norm);
  const auto null_cap = io::large_config_from_hf_json(R"({"gate_soft_cap": null, "output_logit_soft_cap": 12})");
  EXPECT_FALSE(null_cap.gate_soft_cap.has_value());
  EXPECT_EQ(null_cap.output_logit_soft_cap, 12.0);
}

TEST(PretrainedConfig, WriteThenReadIsTheSameConfig) {
  auto c = small_large_config();
  EXPECT_EQ(io::large_config_from_hf_json(io::large_config_to_hf_json(c)), c);
  c.use_bias = true;
  c.norm_eps = 1e-5;
  c.qk_dim_factor = 0.25;
  c.chunkwise_kernel = "chunkwise--triton_xl_chunk";
  c.sequence_kernel = "native_sequence__triton";
  c.step_kernel = "triton";
  c.mode = "train";
  c.return_last_states = false;
  c.chunk_size = 32;
  c.ffn_proj_factor = 1.3;
  c.gate_soft_cap.reset();
  c.output_logit_soft_cap = 25.5;
  c.weight_mode = "fused";
  c.add_out_norm = false;
  const std::string text = io::large_config_to_hf_json(c);
  EXPECT_EQ(io::large_config_from_hf_json(text), c) << text;
  const json written = json::parse(text);
  EXPECT_EQ(written["model_type"], "xlstm");
  EXPECT_EQ(written["hidden_size"], 64);
  EXPECT_EQ(written["num_hidden_layers"], 2);
  EXPECT_EQ(written["tie_word_embeddings"], false);
  EXPECT_EQ(written["architectures"], json::array({"xLSTMForCausalLM"}));
  EXPECT_TRUE(written["gate_soft_cap"].is_null());
}

struct BadField {
  const char* name;
  const char* json_text;
  const char* key;
  const char* message;  // part of what()
  friend void PrintTo(const BadField& c, std::ostream* os) { *os << c.name; }
};

class PretrainedConfigBadField : public ::testing::TestWithParam<BadField> {};

TEST_P(PretrainedConfigBadField, NamesFileAndKey) {
  TempDir dir;
  write_bytes(dir.file("config.json"), GetParam().json_text);
  try {
    io::read_hf_config_file(dir.file("config.json"));
    FAIL() << "accepted " << GetParam().json_text;
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), GetParam().key) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind(dir.file("config.json") + ": ", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find(GetParam().message), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Pretrained, PretrainedConfigBadField,
    ::testing::Values(
        BadField{"IntGivenFloat", R"({"chunk_size": 64.5})", "chunk_size", "expected an integer, got 64.5"},
        BadField{"IntGivenString", R"({"num_heads": "8"})", "num_heads", "expected an integer, got \"8\""},
        BadField{"IntTooLarge", R"({"vocab_size": 18446744073709551615})", "vocab_size", "expected an integer"},
        BadField{"BoolGivenString", R"({"use_bias": "false"})", "use_bias", "expected true or false"},
        BadField{"BoolGivenInt", R"({"add_out_norm": 1})", "add_out_norm", "expected true or false"},
        BadField{"FloatGivenBool", R"({"norm_eps": true})", "norm_eps", "expected a number"},
        BadField{"StringGivenNumber", R"({"mode": 3})", "mode", "expected a string"},
        BadField{"CapGivenString", R"({"gate_soft_cap": "15"})", "gate_soft_cap", "expected a number"},
        BadField{"IgnoredKeyOfWrongType", R"({"bos_token_id": "zero"})", "bos_token_id", "expected an integer or null"},
        BadField{"EosList", R"({"eos_token_id": [2, "x"]})", "eos_token_id", "a list of integers"},
        BadField{"UnknownKey", R"({"num_layers": 4})", "num_layers", "unknown key"},
        BadField{"UnknownValue", R"({"mode": "decode"})", "mode", "\"decode\""},
        BadField{"HeadsDoNotDivide", R"({"embedding_dim": 64, "num_heads": 3})", "num_heads", "does not divide"},
        BadField{"AliasDisagrees", R"({"embedding_dim": 64, "hidden_size": 128})", "hidden_size", "disagrees"},
        BadField{"OldNormNameDisagrees", R"({"add_out_norm": true, "add_post_blocks_norm": false})",
                 "add_post_blocks_norm", "disagrees"},
        BadField{"HeadDim", R"({"embedding_dim": 64, "num_heads": 4, "head_dim": 32})", "head_dim", "embedding_dim / num_heads = 16"},
        BadField{"TiedEmbeddings", R"({"tie_word_embeddings": true})", "tie_word_embeddings", "not supported"},
        BadField{"QkNorm", R"({"add_qk_norm": true})", "add_qk_norm", "not supported"},
        BadField{"OtherModel", R"({"model_type": "llama"})", "model_type", "\"llama\""},
        BadField{"NotAnObject", R"([1, 2])", "", "expected a JSON object"},
        BadField{"NotJson", R"({"num_heads": )", "", "not valid JSON"},
        BadField{"DuplicateKey", R"({"num_heads": 4, "num_heads": 8})", "", "\"num_heads\" more than once"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(PretrainedConfig, HubNamesMapOnlyTheEmbedding) {
  EXPECT_EQ(io::module_name_from_hub("backbone.embeddings.weight"), "embedding.weight");
  EXPECT_EQ(io::hub_name_from_module("embedding.weight"), "backbone.embeddings.weight");
  for (const char* same : {"backbone.blocks.0.mlstm_layer.q.weight", "backbone.blocks.31.ffn.proj_down.weight",
                           "backbone.out_norm.weight", "lm_head.weight", "embedding_other.weight"}) {
    EXPECT_EQ(io::module_name_from_hub(same), same);
    EXPECT_EQ(io::hub_name_from_module(same), same);
  }
  // Every name of the stand-in module survives the round trip.
  auto module = large_like_module(small_large_config(), torch::kFloat32, /*fill=*/false);
  for (const auto& item : module->named_parameters())
    EXPECT_EQ(io::module_name_from_hub(io::hub_name_from_module(item.key())), item.key());
}

}  // namespace
}  // namespace xlstm::testing
