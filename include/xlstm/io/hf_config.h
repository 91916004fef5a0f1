// The Hugging Face `config.json` of xLSTM-Large checkpoints (transformers' xLSTMConfig, model_type
// "xlstm", e.g. `NX-AI/xLSTM-7b`) read into and written from xLSTMLargeConfig.
//
// Reading. Every xLSTMLargeConfig field is read under its own name (transformers uses the same
// names); a field the file leaves out takes transformers' default (hf_default_large_config(): the 7B
// sizes, mode "inference", return_last_states true, native kernels, ffn_proj_factor 2.667), because
// that is what the file means to transformers. Besides those:
//   hidden_size           alias of embedding_dim (used when embedding_dim is absent or null; when both
//                         are given they must agree: transformers sizes the embedding by one and
//                         every other layer by the other)
//   num_hidden_layers     alias of num_blocks (used when num_blocks is absent or null; ignored
//                         otherwise, as transformers builds its blocks from num_blocks)
//   add_post_blocks_norm  older name of add_out_norm; must agree with it when both are given
//   head_dim              must equal embedding_dim / num_heads (older configs derive it so)
//   tie_word_embeddings   must be false: xLSTMLarge has its own lm_head weight
//   add_post_norm, add_qk_norm   must be false: xLSTMLarge has neither norm
//   model_type            must be "xlstm"
// and these are type-checked and otherwise ignored (they concern initialisation, training, the
// tokenizer, generation or transformers itself, not the weights' meaning): architectures,
// transformers_version, _name_or_path, torch_dtype, dtype, use_cache, bos_token_id, eos_token_id,
// pad_token_id, max_inference_chunksize, force_bos_token_insert, igate_bias_init_range,
// cell_norm_eps (both implementations use norm_eps in the per-head norm), mlstm_round_up_to_multiple_of
// (both size q/k/v as int(embedding_dim * factor)), add_embedding_dropout, add_forward_backend_padding.
// Any other key, a value of the wrong JSON type (an integer field given 64.5, a bool given "true"),
// duplicate keys or invalid JSON raise ConfigError naming the key (and, from a file, the file).
// The result is post_init()-ed and validate()-d like a YAML config.
//
// Writing: every xLSTMLargeConfig field under its name, plus hidden_size and num_hidden_layers (equal
// to embedding_dim and num_blocks), model_type "xlstm", architectures ["xLSTMForCausalLM"] and
// tie_word_embeddings false, keys sorted, so that transformers reads it and read(write(c)) == c.
#pragma once

#include <string>

#include "xlstm/config.h"

namespace xlstm::io {

// transformers' xLSTMConfig defaults as an xLSTMLargeConfig (the 7B architecture).
xLSTMLargeConfig hf_default_large_config();

// `json_text` is the content of a config.json; errors name the key.
xLSTMLargeConfig large_config_from_hf_json(const std::string& json_text);
// The same from a file; errors start with the file's path.
xLSTMLargeConfig read_hf_config_file(const std::string& path);

std::string large_config_to_hf_json(const xLSTMLargeConfig& config);

}  // namespace xlstm::io
