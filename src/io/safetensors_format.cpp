// Validation and serialisation of safetensors headers with nlohmann::json; no LibTorch here.
#include "io/safetensors_format.h"

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>

#include "io/json_text.h"

namespace xlstm::io::format {
namespace {

using json = nlohmann::json;
using json_text::quote;
using json_text::show;

struct DtypeInfo {
  const char* name;
  size_t size;
};
constexpr DtypeInfo kSupported[] = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
                                    {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};
// Dtypes of the format (reference v0.5+) that LibTorch-facing code here does not hold.
constexpr const char* kUnsupported[] = {"F8_E5M2", "F8_E4M3", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4",
                                        "U16",     "U32",     "U64",     "C64"};

std::string show_shape(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool as_uint(const json& v, uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    out = static_cast<uint64_t>(v.get<int64_t>());
    return true;
  }
  return false;
}

// Number of elements of `shape`; throws when a dim is negative or the product of the non-zero dims
// exceeds int64 (so that contiguous strides always fit in int64).
uint64_t numel(const std::string& entry, const std::vector<int64_t>& shape) {
  int64_t product = 1;
  bool empty = false;
  for (int64_t d : shape) {
    if (d < 0) throw FormatError("entry " + quote(entry) + ": negative dim in shape " + show_shape(shape));
    if (d == 0) {
      empty = true;
      continue;
    }
    if (__builtin_mul_overflow(product, d, &product))
      throw FormatError("entry " + quote(entry) + ": shape " + show_shape(shape) +
                        " is too large (its element count overflows 64 bits)");
  }
  return empty ? 0 : static_cast<uint64_t>(product);
}

uint64_t byte_size(const std::string& entry, const std::string& dtype, const std::vector<int64_t>& shape) {
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(numel(entry, shape), static_cast<uint64_t>(dtype_size(dtype)), &bytes))
    throw FormatError("entry " + quote(entry) + ": shape " + show_shape(shape) + " of dtype " + dtype +
                      " is too large (its byte size overflows 64 bits)");
  return bytes;
}

json parse_json(const uint8_t* begin, const uint8_t* end) {
  try {
    return json_text::parse_strict(begin, end);
  } catch (const json_text::ParseError& e) {
    throw FormatError(std::string("header ") + e.what());
  }
}

std::map<std::string, std::string> parse_metadata(const json& value) {
  if (!value.is_object())
    throw FormatError("__metadata__ must be an object of strings, got " + show(value));
  std::map<std::string, std::string> metadata;
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string())
      throw FormatError("__metadata__[" + quote(key) + "] must be a string, got " + show(v));
    metadata[key] = v.get<std::string>();
  }
  return metadata;
}

Entry parse_entry(const std::string& name, const json& value, uint64_t data_size) {
  const std::string where = "entry " + quote(name);
  if (!value.is_object()) throw FormatError(where + " must be an object, got " + show(value));
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!value.contains(field)) throw FormatError(where + ": missing field \"" + field + "\"");
  for (const auto& item : value.items())
    if (item.key() != "dtype" && item.key() != "shape" && item.key() != "data_offsets")
      throw FormatError(where + ": unexpected field " + quote(item.key()));

  Entry entry;
  entry.name = name;
  const json& dtype = value["dtype"];
  if (!dtype.is_string()) throw FormatError(where + ": dtype must be a string, got " + show(dtype));
  entry.dtype = dtype.get<std::string>();
  try {
    dtype_size(entry.dtype);
  } catch (const FormatError& e) {
    throw FormatError(where + ": " + e.what());
  }

  const json& shape = value["shape"];
  if (!shape.is_array()) throw FormatError(where + ": shape must be a list of integers, got " + show(shape));
  for (size_t i = 0; i < shape.size(); ++i) {
    uint64_t d = 0;
    if (!as_uint(shape[i], d) || d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw FormatError(where + ": shape[" + std::to_string(i) + "] is " + show(shape[i]) +
                        ", not a non-negative 64-bit integer");
    entry.shape.push_back(static_cast<int64_t>(d));
  }
  const uint64_t nbytes = byte_size(name, entry.dtype, entry.shape);

  const json& offsets = value["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !as_uint(offsets[0], entry.begin) ||
      !as_uint(offsets[1], entry.end))
    throw FormatError(where + ": data_offsets must be two non-negative integers, got " + show(offsets));
  const std::string range = "[" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) + "]";
  if (entry.begin > entry.end) throw FormatError(where + ": data_offsets " + range + " has begin > end");
  if (entry.end > data_size)
    throw FormatError(where + ": data_offsets " + range + " extend beyond the data section of " +
                      std::to_string(data_size) + " bytes");
  if (entry.end - entry.begin != nbytes)
    throw FormatError(where + ": data_offsets " + range + " span " + std::to_string(entry.end - entry.begin) +
                      " bytes but dtype " + entry.dtype + " with shape " + show_shape(entry.shape) + " needs " +
                      std::to_string(nbytes));
  return entry;
}

// Sorted by offset, the entries must tile [0, data_size) exactly.
void check_coverage(const std::vector<Entry>& entries, uint64_t data_size) {
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    const std::string range = "[" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
    if (e.begin > covered)
      throw FormatError("bytes [" + std::to_string(covered) + ", " + std::to_string(e.begin) +
                        ") of the data section belong to no tensor (gap before entry " + quote(e.name) + ")");
    if (e.begin < covered)
      throw FormatError("entry " + quote(e.name) + " data_offsets " + range + " overlap entry " +
                        quote(previous->name) + " [" + std::to_string(previous->begin) + ", " +
                        std::to_string(previous->end) + "]");
    covered = e.end;
    previous = &e;
  }
  if (covered != data_size)
    throw FormatError("the data section has " + std::to_string(data_size) + " bytes but the tensors cover only " +
                      std::to_string(covered) + " (trailing bytes)");
}

void check_utf8(const std::string& what, const std::string& s) {
  try {
    (void)json(s).dump();
  } catch (const json::exception&) {
    throw FormatError(what + " " + quote(s) + " is not valid UTF-8");
  }
}

}  // namespace

size_t dtype_size(const std::string& dtype) {
  for (const auto& d : kSupported)
    if (dtype == d.name) return d.size;
  for (const char* d : kUnsupported)
    if (dtype == d) throw FormatError("unsupported dtype " + quote(dtype));
  throw FormatError("unknown dtype " + quote(dtype));
}

Header parse_header(const uint8_t* data, size_t size) {
  if (size < 8)
    throw FormatError("file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
  if (n > kMaxHeaderSize)
    throw FormatError("header length " + std::to_string(n) + " exceeds the limit of " +
                      std::to_string(kMaxHeaderSize) + " bytes");
  if (n > size - 8)
    throw FormatError("header length " + std::to_string(n) + " exceeds the " + std::to_string(size - 8) +
                      " bytes that follow the length field");

  Header header;
  header.data_start = 8 + n;
  header.data_size = size - header.data_start;
  const json root = parse_json(data + 8, data + 8 + n);
  if (!root.is_object()) throw FormatError("header must be a JSON object, got " + show(root));
  for (const auto& [name, value] : root.items()) {
    if (name == "__metadata__")
      header.metadata = parse_metadata(value);
    else
      header.entries.push_back(parse_entry(name, value, header.data_size));
  }
  std::sort(header.entries.begin(), header.entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  check_coverage(header.entries, header.data_size);
  return header;
}

std::vector<Entry> layout(std::vector<Entry> entries) {
  std::set<std::string> names;
  for (const Entry& e : entries) {
    if (e.name == "__metadata__") throw FormatError("entry name \"__metadata__\" is reserved");
    if (!names.insert(e.name).second) throw FormatError("entry " + quote(e.name) + " appears twice");
    dtype_size(e.dtype);
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    const size_t sa = dtype_size(a.dtype), sb = dtype_size(b.dtype);
    return sa != sb ? sa > sb : a.name < b.name;
  });
  uint64_t offset = 0;
  for (Entry& e : entries) {
    e.begin = offset;
    if (__builtin_add_overflow(offset, byte_size(e.name, e.dtype, e.shape), &offset))
      throw FormatError("the tensors are too large for one file (byte offsets overflow 64 bits)");
    e.end = offset;
  }
  return entries;
}

std::string serialize_header(const std::vector<Entry>& entries,
                             const std::map<std::string, std::string>& metadata) {
  json root = json::object();
  for (const Entry& e : entries) {
    check_utf8("entry name", e.name);
    root[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {e.begin, e.end}}};
  }
  if (!metadata.empty()) {
    for (const auto& [key, value] : metadata) {
      check_utf8("metadata key", key);
      check_utf8("metadata value of " + quote(key) + ":", value);
    }
    root["__metadata__"] = metadata;
  }
  std::string text = root.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((static_cast<uint64_t>(text.size()) >> (8 * i)) & 0xff);
  return out + text;
}

}  // namespace xlstm::io::format
