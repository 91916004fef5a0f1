// The exception of the tokenizer: unreadable or malformed vocabulary, merges and tokenizer.json files
// (what() names the file and what is wrong), and input it cannot encode or decode.
#pragma once

#include <stdexcept>

namespace xlstm::tokenizer {

class TokenizerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace xlstm::tokenizer
