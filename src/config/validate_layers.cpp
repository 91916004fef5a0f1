// validate() of the layer and block configs of the NeurIPS family (mLSTM, sLSTM, feed-forward);
// runs after post_init(), so the pushed-down and derived fields are set.
#include "detail.h"
#include "validate_checks.h"

namespace xlstm {

using namespace config_detail;

void mLSTMLayerConfig::validate(const std::string& path) const {
  check_positive(join(path, "embedding_dim"), embedding_dim);
  check_proj_up(path, proj_factor, round_proj_up_to_multiple_of, embedding_dim, _proj_up_dim);
  const std::string inner = "the inner dimension _inner_embedding_dim";
  check_non_negative(join(path, "conv1d_kernel_size"), conv1d_kernel_size);
  check_positive(join(path, "qkv_proj_blocksize"), qkv_proj_blocksize);
  check_divides(join(path, "qkv_proj_blocksize"), qkv_proj_blocksize, _inner_embedding_dim, inner);
  check_positive(join(path, "num_heads"), num_heads);
  check_divides(join(path, "num_heads"), num_heads, _inner_embedding_dim, inner);
  check_dropout(join(path, "dropout"), dropout);
  check_context_length(join(path, "context_length"), context_length);
  check_block_position(path, _block_idx, _num_blocks);
  check_one_of(join(path, "backend"), backend, {"auto", "parallel", "chunkwise", "recurrent"});
  check_positive(join(path, "chunk_size"), chunk_size);
}

void mLSTMBlockConfig::validate(const std::string& path) const {
  check_block_position(path, _block_idx, _num_blocks);
  mlstm.validate(join(path, "mlstm"));
}

void sLSTMLayerConfig::validate(const std::string& path) const {
  check_positive(join(path, "embedding_dim"), embedding_dim);
  check_positive(join(path, "num_heads"), num_heads);
  check_divides(join(path, "num_heads"), num_heads, embedding_dim, "embedding_dim");
  check_one_of(join(path, "backend"), backend, {"vanilla", "cuda"});
  check_one_of(join(path, "function"), function, {"slstm", "lstm"});
  check_one_of(join(path, "bias_init"), bias_init, {"powerlaw_blockdependent", "small_init", "standard", "zeros"});
  check_one_of(join(path, "recurrent_weight_init"), recurrent_weight_init, {"zeros", "standard"});
  check_block_position(path, _block_idx, _num_blocks);
  if (num_gates != 4)
    throw ConfigError(join(path, "num_gates"), std::to_string(num_gates) + " is not 4 (the sLSTM gates i, f, z, o)");
  if (gradient_recurrent_clipval) check_positive(join(path, "gradient_recurrent_clipval"), *gradient_recurrent_clipval);
  if (forward_clipval) check_positive(join(path, "forward_clipval"), *forward_clipval);
  check_positive(join(path, "batch_size"), batch_size);
  check_one_of(join(path, "input_shape"), input_shape, {"BSGNH", "SBGNH"});
  check_one_of(join(path, "internal_input_shape"), internal_input_shape, {"SBNGH", "SBGNH", "SBNHG"});
  check_one_of(join(path, "output_shape"), output_shape, {"BNSH", "SBH", "BSH", "SBNH"});
  check_one_of(join(path, "dtype"), dtype, dtype_names());
  check_one_of(join(path, "dtype_b"), dtype_b, dtype_names());
  const std::pair<const char*, const std::optional<std::string>*> optional_dtypes[] = {
      {"dtype_r", &dtype_r}, {"dtype_w", &dtype_w}, {"dtype_g", &dtype_g}, {"dtype_s", &dtype_s}, {"dtype_a", &dtype_a}};
  for (const auto& [name, value] : optional_dtypes)
    if (*value) check_one_of(join(path, name), **value, dtype_names());
  check_non_negative(join(path, "conv1d_kernel_size"), conv1d_kernel_size);
  check_dropout(join(path, "dropout"), dropout);
}

void FeedForwardConfig::validate(const std::string& path) const {
  check_positive(join(path, "embedding_dim"), embedding_dim);
  check_proj_up(path, proj_factor, round_proj_up_to_multiple_of, embedding_dim, _proj_up_dim);
  check_one_of(join(path, "act_fn"), act_fn, {"gelu", "relu", "relu^2", "sigmoid", "swish", "selu"});
  check_dropout(join(path, "dropout"), dropout);
  check_one_of(join(path, "ff_type"), ff_type, {"ffn_gated"});
  check_positive(join(path, "_num_blocks"), _num_blocks);
}

void sLSTMBlockConfig::validate(const std::string& path) const {
  check_block_position(path, _block_idx, _num_blocks);
  slstm.validate(join(path, "slstm"));
  if (feedforward) feedforward->validate(join(path, "feedforward"));
}

}  // namespace xlstm
