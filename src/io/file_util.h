// Small POSIX file helpers of the checkpoint code: atomic file replacement (temporary file in the same
// folder, fsync, rename) and whole-file reads. Errors raise CheckpointError naming the path.
#pragma once

#include <cstddef>
#include <string>

namespace xlstm::io {

// Writes a file under a temporary name next to `path`; commit() flushes it to disk and renames it over
// `path`. Destroyed without commit(), it removes the temporary file and leaves `path` untouched.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  void commit();

 private:
  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
};

// Writes `text` to `path` atomically.
void write_file_atomic(const std::string& path, const std::string& text);

// The whole content of a file.
std::string read_file(const std::string& path);

// fsync of a folder, so that renames inside it survive a crash.
void sync_directory(const std::string& dir);

}  // namespace xlstm::io
