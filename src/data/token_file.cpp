// Writing and reading token files (token_file.h): explicit little-endian encoding, a memory mapping
// for reading, and validation of every header field and token.
#include "xlstm/data/token_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/file_util.h"
#include "xlstm/data/error.h"

namespace xlstm::data {
namespace {

void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

uint64_t get_le(const unsigned char* p, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | p[i];
  return value;
}

}  // namespace

void write_token_file(const std::string& path, const std::vector<uint16_t>& tokens, int64_t vocab_size) {
  if (vocab_size < 1 || vocab_size > 65536)
    throw DataError(path + ": a vocabulary of " + std::to_string(vocab_size) +
                    " tokens does not fit a token file (uint16 tokens: 1 ... 65536)");
  std::string bytes(kTokenFileMagic, sizeof(kTokenFileMagic));
  put_le(bytes, kTokenFileVersion, 4);
  put_le(bytes, static_cast<uint64_t>(vocab_size), 4);
  put_le(bytes, tokens.size(), 8);
  put_le(bytes, 2, 4);
  put_le(bytes, 0, 4);
  bytes.reserve(bytes.size() + 2 * tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] >= vocab_size)
      throw DataError(path + ": token " + std::to_string(i) + " is " + std::to_string(tokens[i]) +
                      ", not below the vocabulary size " + std::to_string(vocab_size));
    put_le(bytes, tokens[i], 2);
  }
  try {
    io::write_file_atomic(path, bytes);
  } catch (const std::exception& e) {
    throw DataError(e.what());
  }
}

TokenFile::TokenFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw DataError(path + ": cannot open the token file (" + std::strerror(errno) + ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw DataError(path + ": not a regular file");
  }
  map_bytes_ = static_cast<size_t>(st.st_size);
  if (map_bytes_ < kTokenFileHeaderBytes) {
    ::close(fd);
    throw DataError(path + ": " + std::to_string(map_bytes_) + " bytes, too short for a token file header (32 bytes)");
  }
  map_ = ::mmap(nullptr, map_bytes_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    throw DataError(path + ": cannot map the token file (" + std::strerror(errno) + ")");
  }
  try {
    const auto* p = static_cast<const unsigned char*>(map_);
    if (std::memcmp(p, kTokenFileMagic, sizeof(kTokenFileMagic)) != 0)
      throw DataError(path + ": not a token file (the magic \"XLSTMTOK\" is missing)");
    if (const uint64_t version = get_le(p + 8, 4); version != kTokenFileVersion)
      throw DataError(path + ": token file version " + std::to_string(version) + " is not supported (only 1)");
    vocab_size_ = static_cast<int64_t>(get_le(p + 12, 4));
    if (vocab_size_ < 1 || vocab_size_ > 65536)
      throw DataError(path + ": vocabulary size " + std::to_string(vocab_size_) + " is outside 1 ... 65536");
    const uint64_t count = get_le(p + 16, 8);
    if (const uint64_t width = get_le(p + 24, 4); width != 2)
      throw DataError(path + ": " + std::to_string(width) + " bytes per token is not supported (only 2)");
    if (count > (map_bytes_ - kTokenFileHeaderBytes) / 2 || kTokenFileHeaderBytes + 2 * count != map_bytes_)
      throw DataError(path + ": the header says " + std::to_string(count) + " tokens (" +
                      std::to_string(kTokenFileHeaderBytes + 2 * count) + " bytes) but the file has " +
                      std::to_string(map_bytes_) + " bytes");
    count_ = static_cast<int64_t>(count);
    tokens_ = p + kTokenFileHeaderBytes;
    for (int64_t i = 0; i < count_; ++i)
      if ((*this)[i] >= vocab_size_)
        throw DataError(path + ": token " + std::to_string(i) + " is " + std::to_string((*this)[i]) +
                        ", not below the vocabulary size " + std::to_string(vocab_size_));
  } catch (...) {
    ::munmap(map_, map_bytes_);
    throw;
  }
}

TokenFile::~TokenFile() {
  if (map_) ::munmap(map_, map_bytes_);
}

uint16_t TokenFile::operator[](int64_t i) const {
  return static_cast<uint16_t>(tokens_[2 * i] | (tokens_[2 * i + 1] << 8));
}

}  // namespace xlstm::data
