// Small POSIX file helpers of the checkpoint code: atomic file and folder replacement (write under a
// temporary name, fsync, rename) and whole-file reads. Errors raise CheckpointError naming the path.
// POSIX calls only: the PyPI libtorch.so exports std::filesystem symbols of its own, and some of them
// (remove_all among others) crash when called from code built with the system libstdc++.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

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

enum class PathKind { missing, file, directory, other };
PathKind path_kind(const std::string& path);  // symbolic links are `other`, never followed

// The same, following symbolic links (Hugging Face hub caches link every file of a snapshot to a blob).
PathKind followed_path_kind(const std::string& path);

// "a/b//" -> "a/b"; "/" stays.
std::string strip_trailing_slashes(std::string path);

// True when the folder has no entries (CheckpointError when it cannot be read).
bool directory_is_empty(const std::string& dir);

// Before writing a folder to `dir`: fine when nothing is there, or an empty folder, or a folder with
// one of `markers` (files saying it is `what`, e.g. "a training checkpoint"); anything else raises
// CheckpointError, so that a save never replaces an unrelated folder.
void check_replaceable(const std::string& dir, const std::vector<std::string>& markers, const std::string& what);

// Creates a fresh folder next to `path` (same parent, so a rename can move it onto `path`).
std::string make_temp_directory(const std::string& path);

// Removes a file or a folder with everything in it (symbolic links are removed, not followed);
// best effort, for cleaning up temporary folders.
void remove_tree(const std::string& path) noexcept;

// Puts the folder `fresh` in place of `path`: a plain rename when `path` does not exist, else an
// atomic exchange (a rename of the old folder aside on file systems without RENAME_EXCHANGE) after
// which the old folder is removed. On failure `path` still holds the old folder.
void replace_directory(const std::string& fresh, const std::string& path);

}  // namespace xlstm::io
