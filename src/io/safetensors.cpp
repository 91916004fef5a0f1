// LibTorch side of safetensors files: memory-mapped reading with zero-copy tensor views, and atomic
// writing. The header itself is validated and built by the torch-free core in safetensors_format.h.
#include "xlstm/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/file_util.h"
#include "io/safetensors_format.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; this reader maps it without byte swapping");

namespace xlstm::io {
namespace {

struct DtypeName {
  const char* name;
  c10::ScalarType type;
};
constexpr DtypeName kDtypes[] = {
    {"F64", torch::kFloat64}, {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
    {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},   {"I8", torch::kInt8},
    {"U8", torch::kUInt8},    {"BOOL", torch::kBool}};

// `name` passed format::dtype_size, which accepts exactly the names of kDtypes.
c10::ScalarType scalar_type(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return d.type;
  TORCH_INTERNAL_ASSERT(false, "safetensors dtype table out of sync with the format core: ", name);
}

const char* dtype_name(c10::ScalarType type) {
  for (const auto& d : kDtypes)
    if (type == d.type) return d.name;
  return nullptr;
}

}  // namespace

// The read-only file mapping; pages are copy-on-write (MAP_PRIVATE), so in-place ops on a zero-copy
// tensor never reach the file and never fault.
struct SafetensorsReader::Mapping {
  uint8_t* data = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (data) munmap(data, size);
  }
};

SafetensorsReader::SafetensorsReader(const std::string& path) : path_(path), mapping_(std::make_shared<Mapping>()) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw CheckpointError(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw CheckpointError(path + ": not a regular file");
  }
  mapping_->size = static_cast<size_t>(st.st_size);
  if (mapping_->size > 0) {
    void* p = mmap(nullptr, mapping_->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
    const int err = errno;
    ::close(fd);
    if (p == MAP_FAILED) throw CheckpointError(path + ": cannot memory-map: " + std::strerror(err));
    mapping_->data = static_cast<uint8_t*>(p);
  } else {
    ::close(fd);
  }

  format::Header header;
  try {
    header = format::parse_header(mapping_->data, mapping_->size);
  } catch (const format::FormatError& e) {
    throw CheckpointError(path + ": " + e.what());
  }
  metadata_ = std::move(header.metadata);
  data_start_ = header.data_start;
  for (auto& e : header.entries) {
    TensorInfo info;
    info.name = e.name;
    info.dtype = scalar_type(e.dtype);
    info.shape = std::move(e.shape);
    info.begin = e.begin;
    info.end = e.end;
    index_[info.name] = tensors_.size();
    tensors_.push_back(std::move(info));
  }
}

SafetensorsReader::~SafetensorsReader() = default;

std::vector<std::string> SafetensorsReader::keys() const {
  std::vector<std::string> names;
  names.reserve(tensors_.size());
  for (const auto& t : tensors_) names.push_back(t.name);
  return names;
}

bool SafetensorsReader::contains(const std::string& name) const { return index_.count(name) != 0; }

const TensorInfo& SafetensorsReader::info(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw CheckpointError(path_ + ": no tensor named \"" + name + "\"");
  return tensors_[it->second];
}

torch::Tensor SafetensorsReader::tensor(const std::string& name, bool copy) const {
  const TensorInfo& t = info(name);
  uint8_t* src = mapping_->data + data_start_ + t.begin;
  const size_t nbytes = t.end - t.begin;
  if (t.dtype == torch::kBool) {
    // Bytes other than 0 and 1 are not valid bools for LibTorch.
    for (size_t i = 0; i < nbytes; ++i)
      if (src[i] > 1)
        throw CheckpointError(path_ + ": entry \"" + name + "\" (BOOL) holds byte " + std::to_string(src[i]) +
                              " at element " + std::to_string(i) + ", not 0 or 1");
  }
  const auto options = torch::TensorOptions().dtype(t.dtype);
  const size_t itemsize = c10::elementSize(t.dtype);
  const bool aligned = reinterpret_cast<uintptr_t>(src) % itemsize == 0;
  if (copy || !aligned || nbytes == 0) {
    torch::Tensor out = torch::empty(t.shape, options);
    if (nbytes > 0) std::memcpy(out.data_ptr(), src, nbytes);
    return out;
  }
  std::shared_ptr<Mapping> keep = mapping_;
  return torch::from_blob(src, t.shape, [keep](void*) {}, options);
}

void SafetensorsReader::release_pages(const std::string& name) const {
  const TensorInfo& t = info(name);
  if (t.end == t.begin) return;
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t first = reinterpret_cast<uintptr_t>(mapping_->data + data_start_ + t.begin) & ~(page - 1);
  const uintptr_t last = reinterpret_cast<uintptr_t>(mapping_->data + data_start_ + t.end);
  // Advice only: a failure leaves the pages resident, which costs memory but never correctness.
  madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

std::map<std::string, torch::Tensor> load_safetensors(const std::string& path) {
  SafetensorsReader reader(path);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& name : reader.keys()) tensors.emplace(name, reader.tensor(name, /*copy=*/true));
  return tensors;
}

void save_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<format::Entry> entries;
  std::map<std::string, torch::Tensor> cpu;
  for (const auto& [name, tensor] : tensors) {
    if (!tensor.defined()) throw CheckpointError(path + ": tensor \"" + name + "\" is undefined");
    const char* dtype = dtype_name(tensor.scalar_type());
    if (!dtype)
      throw CheckpointError(path + ": tensor \"" + name + "\" has dtype " +
                            std::string(c10::toString(tensor.scalar_type())) +
                            ", which is not one of F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL");
    entries.push_back({name, dtype, tensor.sizes().vec(), 0, 0});
    cpu[name] = tensor.detach().to(torch::kCPU).contiguous();
  }
  std::string prefix;
  try {
    entries = format::layout(std::move(entries));
    prefix = format::serialize_header(entries, metadata);
  } catch (const format::FormatError& e) {
    throw CheckpointError(path + ": " + e.what());
  }

  AtomicFile file(path);
  file.write(prefix.data(), prefix.size());
  for (const auto& e : entries) {
    const torch::Tensor& t = cpu.at(e.name);
    file.write(t.data_ptr(), e.end - e.begin);
  }
  file.commit();
}

}  // namespace xlstm::io
