// Safetensors files (https://github.com/huggingface/safetensors, format v0.x): an 8-byte little-endian
// header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
// {str: str}}, then the raw little-endian tensor bytes. Reading memory-maps the file and validates the
// whole header before any tensor is touched; every malformed or hostile file raises CheckpointError
// naming the file and the offending entry, never a crash.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace xlstm {

// Invalid checkpoint files and state dicts that do not fit a model.
class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace io {

// One tensor entry of a safetensors header.
struct TensorInfo {
  std::string name;
  c10::ScalarType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets relative to the start of the data section
  uint64_t end = 0;
};

// A memory-mapped safetensors file. Tensors returned by `tensor()` share the mapping (zero copy; the
// mapping lives as long as any of them) unless `copy` is set; the file is never written through them.
class SafetensorsReader {
 public:
  explicit SafetensorsReader(const std::string& path);
  ~SafetensorsReader();
  SafetensorsReader(const SafetensorsReader&) = delete;
  SafetensorsReader& operator=(const SafetensorsReader&) = delete;

  const std::string& path() const { return path_; }
  std::vector<std::string> keys() const;  // in file order of the data (ascending offsets)
  bool contains(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;  // CheckpointError if absent
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  torch::Tensor tensor(const std::string& name, bool copy = false) const;
  // Drops the memory pages that hold the entry's bytes (and any neighbour sharing those pages) from
  // the process's resident memory; they are read again from the file when next touched, so tensors
  // viewing them stay valid, but in-place changes made to them through zero-copy tensors are lost.
  // For loaders that copy a file tensor by tensor and must not keep the whole file resident.
  void release_pages(const std::string& name) const;

 private:
  struct Mapping;
  std::string path_;
  std::shared_ptr<Mapping> mapping_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
  uint64_t data_start_ = 0;  // file offset of the data section
};

// All tensors of a file, copied into ordinary CPU tensors.
std::map<std::string, torch::Tensor> load_safetensors(const std::string& path);

// Writes CPU copies of the tensors (any device, made contiguous). Dtypes: F64 F32 F16 BF16 I64 I32
// I16 I8 U8 BOOL. The header lists them by name; the data holds them by element size (8-byte types
// first) and then by name, as the reference writer does, so that every tensor is aligned for
// zero-copy reading. Writes to a temporary file in the same folder and renames it, so an interrupted
// save never leaves a truncated file under `path`.
void save_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace io
}  // namespace xlstm
