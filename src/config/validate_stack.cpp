// validate() of the block stack and the language model (NeurIPS family): block counts, the
// slstm_at indices, and that every block kind in use has its block config.
#include "detail.h"
#include "validate_checks.h"
#include "yaml_scalars.h"

namespace xlstm {

using namespace config_detail;

void xLSTMBlockStackConfig::validate(const std::string& path) const {
  check_positive(join(path, "embedding_dim"), embedding_dim);
  check_num_blocks(join(path, "num_blocks"), num_blocks);
  check_context_length(join(path, "context_length"), context_length);
  check_dropout(join(path, "dropout"), dropout);

  std::vector<bool> is_slstm(static_cast<size_t>(num_blocks), false);
  for (size_t i = 0; i < slstm_at.size(); ++i) {
    const std::string entry = join(path, "slstm_at") + "[" + std::to_string(i) + "]";
    const int64_t block = slstm_at[i];
    if (block < 0 || block >= num_blocks)
      throw ConfigError(entry, show(block) + " is not a block index (num_blocks is " + show(num_blocks) + ")");
    if (is_slstm[static_cast<size_t>(block)]) throw ConfigError(entry, show(block) + " is listed twice");
    is_slstm[static_cast<size_t>(block)] = true;
  }
  if (!slstm_at.empty() && !slstm_block)
    throw ConfigError(join(path, "slstm_block"), "null, but slstm_at " + show(slstm_at) + " asks for sLSTM blocks");
  std::vector<int64_t> mlstm_blocks;
  for (int64_t i = 0; i < num_blocks; ++i)
    if (!is_slstm[static_cast<size_t>(i)]) mlstm_blocks.push_back(i);
  if (!mlstm_blocks.empty() && !mlstm_block)
    throw ConfigError(join(path, "mlstm_block"),
                      "null, but blocks " + show(mlstm_blocks) + " are not in slstm_at and so are mLSTM blocks");

  if (mlstm_block) mlstm_block->validate(join(path, "mlstm_block"));
  if (slstm_block) slstm_block->validate(join(path, "slstm_block"));
}

void xLSTMLMModelConfig::validate(const std::string& path) const {
  xLSTMBlockStackConfig::validate(path);
  check_positive(join(path, "vocab_size"), vocab_size);
}

}  // namespace xlstm
