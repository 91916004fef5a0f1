// POSIX implementation of the file helpers in file_util.h.
#include "io/file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "xlstm/io/safetensors.h"

namespace xlstm::io {
namespace {

std::string errno_text() { return std::strerror(errno); }

std::string unique_suffix() {
  static std::atomic<unsigned> counter{0};
  return std::to_string(::getpid()) + "." + std::to_string(counter++);
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  for (int attempt = 0; fd_ < 0; ++attempt) {
    temp_path_ = path_ + ".tmp." + unique_suffix();
    // 0666 minus the umask, as for any file the user creates.
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0 && (errno != EEXIST || attempt >= 100))
      throw CheckpointError(path_ + ": cannot create " + temp_path_ + ": " + errno_text());
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
}

void AtomicFile::write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw CheckpointError(path_ + ": write failed: " + errno_text());
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) throw CheckpointError(path_ + ": fsync failed: " + errno_text());
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw CheckpointError(path_ + ": close failed: " + errno_text());
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0)
    throw CheckpointError(path_ + ": cannot rename " + temp_path_ + " to it: " + errno_text());
  temp_path_.clear();
  sync_directory(parent_dir(path_));
}

void write_file_atomic(const std::string& path, const std::string& text) {
  AtomicFile file(path);
  file.write(text.data(), text.size());
  file.commit();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(path + ": cannot open: " + errno_text());
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw CheckpointError(path + ": read failed");
  return text.str();
}

void sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw CheckpointError(dir + ": cannot open folder: " + errno_text());
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw CheckpointError(dir + ": fsync of the folder failed: " + std::strerror(err));
}


std::string strip_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

namespace {
PathKind kind_of(int stat_result, const struct stat& st) {
  if (stat_result != 0) return PathKind::missing;
  if (S_ISREG(st.st_mode)) return PathKind::file;
  if (S_ISDIR(st.st_mode)) return PathKind::directory;
  return PathKind::other;
}
}  // namespace

PathKind path_kind(const std::string& path) {
  struct stat st {};
  return kind_of(::lstat(path.c_str(), &st), st);
}

PathKind followed_path_kind(const std::string& path) {
  struct stat st {};
  return kind_of(::stat(path.c_str(), &st), st);
}

bool directory_is_empty(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw CheckpointError(dir + ": cannot list the folder: " + errno_text());
  bool empty = true;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

void check_replaceable(const std::string& dir, const std::vector<std::string>& markers, const std::string& what) {
  switch (path_kind(dir)) {
    case PathKind::missing:
      return;
    case PathKind::directory: {
      if (directory_is_empty(dir)) return;
      std::string names;
      for (const auto& marker : markers) {
        if (path_kind(dir + "/" + marker) == PathKind::file) return;
        names += (names.empty() ? "" : " or ") + marker;
      }
      throw CheckpointError(dir + ": exists and is not " + what + " (no " + names + "); not replacing it");
    }
    default:
      throw CheckpointError(dir + ": exists and is not a folder; not replacing it");
  }
}

std::string make_temp_directory(const std::string& path) {
  for (int attempt = 0;; ++attempt) {
    const std::string dir = path + ".tmp." + unique_suffix();
    if (::mkdir(dir.c_str(), 0777) == 0) return dir;
    if (errno != EEXIST || attempt >= 100) throw CheckpointError(path + ": cannot create " + dir + ": " + errno_text());
  }
}

void remove_tree(const std::string& path) noexcept {
  ::nftw(path.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p); }, 16,
         FTW_DEPTH | FTW_PHYS);
}

void replace_directory(const std::string& fresh, const std::string& path) {
  if (path_kind(path) == PathKind::missing) {
    if (::rename(fresh.c_str(), path.c_str()) != 0)
      throw CheckpointError(path + ": cannot rename " + fresh + " to it: " + errno_text());
    sync_directory(parent_dir(path));
    return;
  }
  std::string old = fresh;  // after the exchange, the old folder sits under the fresh one's name
  if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) != 0) {
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
      throw CheckpointError(path + ": cannot exchange it with " + fresh + ": " + errno_text());
    old = path + ".old." + unique_suffix();
    if (::rename(path.c_str(), old.c_str()) != 0)
      throw CheckpointError(path + ": cannot move it aside to " + old + ": " + errno_text());
    if (::rename(fresh.c_str(), path.c_str()) != 0) {
      const std::string error = errno_text();
      ::rename(old.c_str(), path.c_str());
      throw CheckpointError(path + ": cannot rename " + fresh + " to it: " + error);
    }
  }
  sync_directory(parent_dir(path));
  remove_tree(old);
}

}  // namespace xlstm::io
