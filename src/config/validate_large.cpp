// validate() of xLSTMLargeConfig (xlstm-spec.md §6.1, §6.5): required sizes, head divisibility of
// the q/k and v widths, kernel names of the reference registries and the backend's own rules.
#include <cmath>

#include "detail.h"
#include "validate_checks.h"
#include "yaml_scalars.h"

namespace xlstm {

using namespace config_detail;

namespace {

constexpr double kMaxWidth = 0x1p62;

// factor > 0, and embedding_dim * factor a width of at least 1 that int64 holds.
void check_width(const std::string& path, double factor, int64_t embedding_dim, const char* width) {
  check_positive(path, factor);
  const double product = factor * static_cast<double>(embedding_dim);
  if (!(product >= 1 && product < kMaxWidth))
    throw ConfigError(path, show(factor) + " times embedding_dim " + show(embedding_dim) + " = " + show(product) +
                                " is not a usable " + width);
}

}  // namespace

void xLSTMLargeConfig::validate(const std::string& path) const {
  const std::pair<const char*, int64_t> required[] = {
      {"embedding_dim", embedding_dim}, {"num_heads", num_heads}, {"num_blocks", num_blocks}, {"vocab_size", vocab_size}};
  for (const auto& [name, value] : required)
    if (value <= 0) throw ConfigError(join(path, name), "required: set it to a positive integer (got " + show(value) + ")");
  check_num_blocks(join(path, "num_blocks"), num_blocks);
  check_positive(join(path, "norm_eps"), norm_eps);
  check_positive(join(path, "eps"), eps);

  check_width(join(path, "qk_dim_factor"), qk_dim_factor, embedding_dim, "qk_dim");
  check_width(join(path, "v_dim_factor"), v_dim_factor, embedding_dim, "v_dim");
  check_divides(join(path, "num_heads"), num_heads, qk_dim(), "qk_dim = embedding_dim * qk_dim_factor");
  check_divides(join(path, "num_heads"), num_heads, v_dim(), "v_dim = embedding_dim * v_dim_factor");

  check_one_of(join(path, "chunkwise_kernel"), chunkwise_kernel, known_chunkwise_kernels());
  check_one_of(join(path, "sequence_kernel"), sequence_kernel, known_sequence_kernels());
  check_one_of(join(path, "step_kernel"), step_kernel, known_step_kernels());
  check_one_of(join(path, "mode"), mode, {"train", "train_with_padding", "inference"});
  check_positive(join(path, "chunk_size"), chunk_size);
  // mLSTMBackendConfig.__post_init__: parallel kernels and padded training return no states.
  if (return_last_states && chunkwise_kernel.rfind("parallel--", 0) == 0)
    throw ConfigError(join(path, "return_last_states"),
                      "true, but chunkwise_kernel " + show(chunkwise_kernel) + " returns no states");
  if (return_last_states && mode == "train_with_padding")
    throw ConfigError(join(path, "return_last_states"), "true, but mode \"train_with_padding\" returns no states");
  check_one_of(join(path, "autocast_kernel_dtype"), autocast_kernel_dtype, dtype_names());
  check_one_of(join(path, "inference_state_dtype"), inference_state_dtype, dtype_names());

  check_width(join(path, "ffn_proj_factor"), ffn_proj_factor, embedding_dim, "FFN width");
  check_positive(join(path, "ffn_round_up_to_multiple_of"), ffn_round_up_to_multiple_of);
  // ffn_dim() = floor((E * pf + m - 1) / m) * m, checked in floating point before it is computed.
  const double m = static_cast<double>(ffn_round_up_to_multiple_of);
  const double ffn_width = std::floor((static_cast<double>(embedding_dim) * ffn_proj_factor + m - 1) / m) * m;
  if (!(ffn_width >= 1 && ffn_width < kMaxWidth))
    throw ConfigError(join(path, "ffn_proj_factor"), show(ffn_proj_factor) + " gives an FFN width of " + show(ffn_width) +
                                                         " when rounded to a multiple of " + show(ffn_round_up_to_multiple_of));
  if (gate_soft_cap) check_positive(join(path, "gate_soft_cap"), *gate_soft_cap);
  if (output_logit_soft_cap) check_positive(join(path, "output_logit_soft_cap"), *output_logit_soft_cap);
  check_one_of(join(path, "weight_mode"), weight_mode, {"single", "fused"});
}

}  // namespace xlstm
