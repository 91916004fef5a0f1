// Token files: a tokenized corpus split as written by prepare_brown_corpus and read by TokenDataset.
//
// Layout (all integers little-endian):
//   offset  0  char[8]   magic "XLSTMTOK"
//           8  uint32    format version (1)
//          12  uint32    vocabulary size V (1 ... 65536)
//          16  uint64    token count N
//          24  uint32    bytes per token (2)
//          28  uint32    reserved (0)
//          32  uint16[N] the tokens, each < V
// Reading checks every field, the file size (exactly 32 + 2N bytes) and every token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xlstm::data {

inline constexpr char kTokenFileMagic[8] = {'X', 'L', 'S', 'T', 'M', 'T', 'O', 'K'};
inline constexpr uint32_t kTokenFileVersion = 1;
inline constexpr size_t kTokenFileHeaderBytes = 32;

// Writes `tokens` atomically (temporary file, fsync, rename). DataError when vocab_size is outside
// [1, 65536] or a token is not below it.
void write_token_file(const std::string& path, const std::vector<uint16_t>& tokens, int64_t vocab_size);

// A token file mapped into memory (read-only); DataError naming the file and the field at fault.
class TokenFile {
 public:
  explicit TokenFile(const std::string& path);
  ~TokenFile();
  TokenFile(const TokenFile&) = delete;
  TokenFile& operator=(const TokenFile&) = delete;

  const std::string& path() const { return path_; }
  int64_t vocab_size() const { return vocab_size_; }
  int64_t size() const { return count_; }
  uint16_t operator[](int64_t i) const;  // i in [0, size())

 private:
  std::string path_;
  int64_t vocab_size_ = 0;
  int64_t count_ = 0;
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  const unsigned char* tokens_ = nullptr;
};

}  // namespace xlstm::data
