// The checks shared by the validate() functions; messages name the value and what it violates.
#include "validate_checks.h"

#include <cmath>

#include "detail.h"
#include "yaml_scalars.h"

namespace xlstm::config_detail {

const std::vector<std::string>& dtype_names() {
  static const std::vector<std::string> names = {"bfloat16", "float16", "float32"};
  return names;
}

void check_positive(const std::string& path, int64_t value) {
  if (value <= 0) throw ConfigError(path, show(value) + " must be a positive integer");
}

void check_positive(const std::string& path, double value) {
  if (!(value > 0) || !std::isfinite(value)) throw ConfigError(path, show(value) + " must be a positive number");
}

void check_non_negative(const std::string& path, int64_t value) {
  if (value < 0) throw ConfigError(path, show(value) + " must be 0 or more");
}

void check_dropout(const std::string& path, double value) {
  if (!(value >= 0 && value < 1)) throw ConfigError(path, show(value) + " is not a probability in [0, 1)");
}

void check_context_length(const std::string& path, int64_t value) {
  if (value != -1 && value <= 0) throw ConfigError(path, show(value) + " must be a positive length or -1 (unset)");
}

void check_num_blocks(const std::string& path, int64_t value) {
  check_positive(path, value);
  if (value > kMaxNumBlocks)
    throw ConfigError(path, show(value) + " is more than the supported maximum of " + show(kMaxNumBlocks));
}

void check_one_of(const std::string& path, const std::string& value, const std::vector<std::string>& choices) {
  for (const auto& choice : choices)
    if (value == choice) return;
  std::string list;
  for (const auto& choice : choices) list += (list.empty() ? "" : ", ") + choice;
  throw ConfigError(path, show(value) + " is not one of " + list);
}

void check_divides(const std::string& path, int64_t divisor, int64_t dividend, const std::string& what) {
  if (divisor <= 0 || dividend % divisor != 0)
    throw ConfigError(path, show(divisor) + " does not divide " + show(dividend) + " (" + what + ")");
}

void check_block_position(const std::string& prefix, int64_t block_idx, int64_t num_blocks) {
  check_positive(join(prefix, "_num_blocks"), num_blocks);
  if (block_idx < 0 || block_idx >= num_blocks)
    throw ConfigError(join(prefix, "_block_idx"),
                      show(block_idx) + " is not a block index below _num_blocks " + show(num_blocks));
}

void check_proj_up(const std::string& prefix, double proj_factor, int64_t multiple_of, int64_t embedding_dim,
                   int64_t proj_up_dim) {
  const std::string path = join(prefix, "proj_factor");
  check_positive(path, proj_factor);
  check_positive(join(prefix, "round_proj_up_to_multiple_of"), multiple_of);
  if (proj_up_dim > 0) return;
  const double product = proj_factor * static_cast<double>(embedding_dim);
  const std::string problem = product >= static_cast<double>(multiple_of)
                                  ? "is too large for a 64-bit integer"
                                  : "rounds down to 0 with round_proj_up_to_multiple_of " + show(multiple_of);
  throw ConfigError(path, show(proj_factor) + " times embedding_dim " + show(embedding_dim) + " = " + show(product) +
                              " " + problem);
}

}  // namespace xlstm::config_detail
