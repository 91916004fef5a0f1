// Building blocks of the validate() functions. Each check throws ConfigError with the key path it is
// given and the offending value, e.g. "mlstm_block.mlstm.num_heads: 3 does not divide 256 (...)".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xlstm::config_detail {

// The dtype names the reference accepts (sLSTM dtypes, xLSTM-Large kernel and state dtypes).
const std::vector<std::string>& dtype_names();

void check_positive(const std::string& path, int64_t value);
void check_positive(const std::string& path, double value);  // finite and > 0
void check_non_negative(const std::string& path, int64_t value);
void check_dropout(const std::string& path, double value);          // in [0, 1)
void check_context_length(const std::string& path, int64_t value);  // -1 (unset) or > 0
void check_num_blocks(const std::string& path, int64_t value);      // in [1, kMaxNumBlocks]
void check_one_of(const std::string& path, const std::string& value, const std::vector<std::string>& choices);
// `divisor` divides `dividend`; `what` names the dividend, e.g. "embedding_dim".
void check_divides(const std::string& path, int64_t divisor, int64_t dividend, const std::string& what);
// _num_blocks >= 1 and 0 <= _block_idx < _num_blocks (prefix = the config's own path).
void check_block_position(const std::string& prefix, int64_t block_idx, int64_t num_blocks);
// UpProjConfigMixin: proj_factor > 0, round_proj_up_to_multiple_of > 0 and a usable derived
// _proj_up_dim (prefix = the config's own path).
void check_proj_up(const std::string& prefix, double proj_factor, int64_t multiple_of, int64_t embedding_dim,
                   int64_t proj_up_dim);

}  // namespace xlstm::config_detail
