// Torch-free core of the safetensors format: validates a header given the raw bytes of a whole file
// and builds the header of a file to write. Kept free of LibTorch so that it can be fuzzed under
// AddressSanitizer on its own (tests/fuzz_safetensors.cpp).
//
// A file is: u64 little-endian N, N bytes of JSON, then the data section. Validation follows the
// reference implementation (huggingface/safetensors): N <= 100 MB and 8 + N <= file size; the JSON is
// an object of entries {"dtype", "shape", "data_offsets": [begin, end]} plus an optional
// "__metadata__" object of strings; end - begin = numel * itemsize; sorted by offset, the entries
// tile the data section exactly (no gap, no overlap, no trailing bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace xlstm::io::format {

// Every way in which a header can be invalid; the message names the entry and the offending value.
class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr uint64_t kMaxHeaderSize = 100'000'000;  // the reference's limit

struct Entry {
  std::string name;
  std::string dtype;           // one of the supported dtype names below
  std::vector<int64_t> shape;  // every dim >= 0, product fits in int64
  uint64_t begin = 0;          // byte offsets relative to the start of the data section
  uint64_t end = 0;
};

struct Header {
  std::vector<Entry> entries;  // ascending (begin, end, name)
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // offset of the data section in the file: 8 + N
  uint64_t data_size = 0;   // file size - data_start
};

// Bytes per element of a supported dtype: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL. Throws FormatError
// ("unsupported dtype") for dtypes the format knows but this library cannot hold (F8_*, U16, ...) and
// ("unknown dtype") for anything else.
size_t dtype_size(const std::string& dtype);

// Validates the header of a file held in `data[0, size)`. Never reads outside that range.
Header parse_header(const uint8_t* data, size_t size);

// Assigns data offsets to entries (their name, dtype and shape set): larger elements first, then by
// name, as the reference writer does, so every tensor is aligned to its element size when the data
// section starts 8-byte aligned. Returns the entries in data order; throws FormatError for duplicate
// names, unsupported dtypes or negative dims.
std::vector<Entry> layout(std::vector<Entry> entries);

// The bytes that precede the data section: u64 N then the JSON header padded with spaces so that
// 8 + N is a multiple of 8. Throws FormatError when a name or metadata string is not valid UTF-8.
std::string serialize_header(const std::vector<Entry>& entries,
                             const std::map<std::string, std::string>& metadata);

}  // namespace xlstm::io::format
