// The exception of the data layer: corpus folders, token files and datasets that cannot be read or
// are malformed (what() names the file and what is wrong), and impossible requests.
#pragma once

#include <stdexcept>

namespace xlstm::data {

class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace xlstm::data
