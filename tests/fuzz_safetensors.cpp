// Deterministic randomized fuzzer of the torch-free safetensors header parser, built with ASan and
// UBSan (tests/CMakeLists.txt). It writes valid files with the library's own layout() and
// serialize_header(), mutates them (truncation, bit flips, byte insertions and deletions, corrupt
// header length, structural JSON changes: wrong types, huge and negative numbers, deep nesting,
// duplicated keys) and requires every input either to parse into entries that lie inside the buffer
// and tile the data section, or to raise format::FormatError. Anything else fails the run.
//
// usage: safetensors_fuzz ITERATIONS [SEED]
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "io/safetensors_format.h"

namespace {

using nlohmann::json;
namespace fmt = xlstm::io::format;

using Rng = std::mt19937_64;

size_t pick(Rng& rng, size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }
bool coin(Rng& rng, double p = 0.5) { return std::bernoulli_distribution(p)(rng); }

const char* const kDtypes[] = {"F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"};
const char* const kNames[] = {"w", "bias", "blocks.0.xlstm.proj_up.weight", "", "é ✓", "__metadata_", "a\"b\\c",
                              "x/y:z", "\t"};

std::string u64_le(uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out;
}

// A valid file: 0-6 tensors of random dtype and shape, optional metadata, random data bytes.
std::string valid_file(Rng& rng) {
  std::vector<fmt::Entry> entries;
  const size_t count = pick(rng, 7);
  for (size_t i = 0; i < count; ++i) {
    fmt::Entry e;
    e.name = std::string(kNames[pick(rng, std::size(kNames))]) + std::to_string(i);
    e.dtype = kDtypes[pick(rng, std::size(kDtypes))];
    const size_t rank = pick(rng, 4);
    for (size_t d = 0; d < rank; ++d) e.shape.push_back(static_cast<int64_t>(pick(rng, 6)));
    entries.push_back(e);
  }
  std::map<std::string, std::string> metadata;
  if (coin(rng)) metadata["format"] = "pt";
  if (coin(rng, 0.2)) metadata["note"] = "ünïcode";
  entries = fmt::layout(std::move(entries));
  std::string file = fmt::serialize_header(entries, metadata);
  const uint64_t data_size = entries.empty() ? 0 : entries.back().end;
  for (uint64_t i = 0; i < data_size; ++i) file.push_back(static_cast<char>(pick(rng, 256)));
  return file;
}

// Header JSON and data section of a file; false when its length field does not fit the file.
bool split(const std::string& file, std::string& header, std::string& data) {
  if (file.size() < 8) return false;
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(file[i]);
  if (n > file.size() - 8) return false;
  header = file.substr(8, n);
  data = file.substr(8 + n);
  return true;
}

// The header of `file` as a JSON object, or false when it is not one or is nested too deeply for
// dump() (which recurses) to write back.
bool parse_object(const std::string& header, json& root) {
  int max_depth = 0;
  root = json::parse(
      header, [&](int depth, json::parse_event_t, json&) { return (max_depth = std::max(max_depth, depth)), true; },
      /*allow_exceptions=*/false);
  return !root.is_discarded() && root.is_object() && max_depth <= 64;
}

json hostile_value(Rng& rng) {
  switch (pick(rng, 12)) {
    case 0: return "F32";
    case 1: return 1.5;
    case 2: return nullptr;
    case 3: return true;
    case 4: return json::object();
    case 5: return json::array();
    case 6: return std::numeric_limits<uint64_t>::max();
    case 7: return std::numeric_limits<int64_t>::min();
    case 8: return -static_cast<int64_t>(pick(rng, 100)) - 1;
    case 9: return 1e308;
    case 10: return json::array({std::numeric_limits<uint64_t>::max(), 3});
    default: return json::array({static_cast<int64_t>(pick(rng, 64)), -1});
  }
}

// Marker string replaced by raw text after dump(), for structures nlohmann cannot hold (duplicate
// keys) or should not build (deep nesting: its dump() recurses).
const std::string kMarker = "\x01MARK\x01";

std::string nested_text(Rng& rng) {
  const size_t depth = 1 + pick(rng, coin(rng, 0.1) ? 20000 : 64);
  const bool arrays = coin(rng);
  std::string text;
  for (size_t i = 0; i < depth; ++i) text += arrays ? "[" : "{\"k\":";
  text += coin(rng) ? "1" : "[]";
  for (size_t i = 0; i < depth; ++i) text += arrays ? "]" : "}";
  return text;
}

std::string mutate_bytes(Rng& rng, std::string file);

// Structural mutation of the header JSON; the file gets a correct length field for the new text.
// Inputs whose header is not a JSON object get a byte mutation instead.
std::string mutate_json(Rng& rng, const std::string& file) {
  std::string header, data;
  json root;
  if (!split(file, header, data) || !parse_object(header, root)) return mutate_bytes(rng, file);
  std::vector<std::string> names;
  for (const auto& item : root.items()) names.push_back(item.key());
  std::string raw;  // replaces the quoted marker after dump()
  const char* const fields[] = {"dtype", "shape", "data_offsets"};

  switch (pick(rng, 9)) {
    case 0: {  // wrong type, huge or negative number in a field, the whole entry, or the root
      if (names.empty() || coin(rng, 0.1)) {
        root = hostile_value(rng);
        break;
      }
      json& e = root[names[pick(rng, names.size())]];
      if (e.is_object() && coin(rng, 0.8))
        e[fields[pick(rng, 3)]] = hostile_value(rng);
      else
        e = hostile_value(rng);
      break;
    }
    case 1: {  // one dim or offset changed to a hostile number, or a range moved (gaps, overlaps)
      if (names.empty()) break;
      json& e = root[names[pick(rng, names.size())]];
      const char* field = coin(rng) ? "shape" : "data_offsets";
      if (!e.is_object() || !e.contains(field) || !e[field].is_array()) break;
      json& list = e[field];
      if (list.size() == 2 && list[0].is_number_unsigned() && list[1].is_number_unsigned() && coin(rng)) {
        const uint64_t delta = 1 + pick(rng, 8), begin = list[0].get<uint64_t>(), end = list[1].get<uint64_t>();
        list = coin(rng) || begin < delta ? json{begin + delta, end + delta} : json{begin - delta, end - delta};
        break;
      }
      if (list.empty()) list.push_back(0);
      const uint64_t values[] = {0, 1, 7, 1ull << 32, 1ull << 62, std::numeric_limits<uint64_t>::max()};
      list[pick(rng, list.size())] = coin(rng, 0.8) ? json(values[pick(rng, std::size(values))]) : hostile_value(rng);
      break;
    }
    case 2: {  // deep nesting
      json& target = names.empty() || coin(rng, 0.3) ? root["deep"] : root[names[pick(rng, names.size())]];
      if (target.is_object() && coin(rng, 0.7))
        target[fields[pick(rng, 3)]] = kMarker;
      else
        target = kMarker;
      raw = nested_text(rng);
      break;
    }
    case 3: {  // duplicated key: a whole entry, or the first field of an entry, written twice
      if (names.empty()) break;
      const std::string& name = names[pick(rng, names.size())];
      json& e = root[name];
      const std::string text = e.dump();
      if (e.is_object() && !e.empty() && coin(rng)) {
        const auto first = e.items().begin();
        raw = "{" + json(first.key()).dump() + ":" + first.value().dump() + "," + text.substr(1);
      } else {
        raw = text + "," + json(name).dump() + ":" + text;  // "name":text,"name":text
      }
      e = kMarker;
      break;
    }
    case 4:  // a field removed or added
      if (names.empty() || !root[names[0]].is_object()) break;
      if (coin(rng))
        root[names[0]].erase(fields[pick(rng, 3)]);
      else
        root[names[0]]["extra"] = hostile_value(rng);
      break;
    case 5: {  // unknown, unsupported or wrong-size dtype
      if (names.empty() || !root[names[0]].is_object()) break;
      const char* dtypes[] = {"F8_E4M3", "F8_E5M2", "U16", "C64", "f32", "", "BF16", "I64", "BOOL"};
      root[names[0]]["dtype"] = dtypes[pick(rng, std::size(dtypes))];
      break;
    }
    case 6:  // hostile metadata
      root["__metadata__"] = coin(rng) ? hostile_value(rng) : json{{"k", hostile_value(rng)}};
      break;
    case 7:  // entry names that collide with the metadata key or are odd
      if (names.empty()) break;
      root["__metadata__"] = root[names[0]];
      break;
    default:  // data section grown or shrunk with a consistent header
      if (coin(rng) && !data.empty())
        data.resize(pick(rng, data.size()));
      else
        data.append(1 + pick(rng, 16), '\0');
      break;
  }
  std::string text = root.dump();
  if (!raw.empty()) {
    const std::string quoted = json(kMarker).dump();
    const auto at = text.find(quoted);
    if (at != std::string::npos) text.replace(at, quoted.size(), raw);
  }
  if (coin(rng, 0.3)) text.append(pick(rng, 8), ' ');
  return u64_le(text.size()) + text + data;
}

std::string mutate_bytes(Rng& rng, std::string file) {
  switch (pick(rng, 5)) {
    case 0:  // truncation
      file.resize(pick(rng, file.size() + 1));
      break;
    case 1:  // bit flips
      for (size_t i = 1 + pick(rng, 8); i > 0 && !file.empty(); --i)
        file[pick(rng, file.size())] ^= static_cast<char>(1u << pick(rng, 8));
      break;
    case 2: {  // insertion of random or structural bytes
      const char* snippets[] = {"{", "}", "[", "]", ",", ":", "\"", "-", "9999999999999999999999", "\\u0000",
                                "\xff", " "};
      std::string bytes = coin(rng) ? std::string(snippets[pick(rng, std::size(snippets))])
                                    : std::string(1 + pick(rng, 4), static_cast<char>(pick(rng, 256)));
      file.insert(pick(rng, file.size() + 1), bytes);
      break;
    }
    case 3:  // deletion of a range
      if (!file.empty()) {
        const size_t at = pick(rng, file.size());
        file.erase(at, 1 + pick(rng, std::min<size_t>(16, file.size() - at)));
      }
      break;
    default: {  // header length field corrupted
      if (file.size() < 8) break;
      uint64_t n = 0;
      for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(file[i]);
      const uint64_t choices[] = {0, n + 1, n - 1, n + 8, file.size(), file.size() - 7,
                                  fmt::kMaxHeaderSize + 1, std::numeric_limits<uint64_t>::max(), Rng::result_type(rng())};
      file.replace(0, 8, u64_le(choices[pick(rng, std::size(choices))]));
      break;
    }
  }
  return file;
}

[[noreturn]] void fail(uint64_t iteration, const std::string& input, const std::string& why) {
  std::fprintf(stderr, "safetensors_fuzz: FAILED at input %llu (%zu bytes): %s\n",
               static_cast<unsigned long long>(iteration), input.size(), why.c_str());
  std::exit(1);
}

// Invariants of an accepted header, checked by touching every byte it points at (ASan sees any
// read outside the exact-size buffer).
void check_accepted(uint64_t iteration, const std::string& input, const uint8_t* buffer, size_t size,
                    const fmt::Header& header) {
  if (header.data_start + header.data_size != size) fail(iteration, input, "data section does not end the file");
  uint64_t covered = 0, checksum = 0;
  for (const auto& e : header.entries) {
    if (e.begin != covered || e.end < e.begin || e.end > header.data_size)
      fail(iteration, input, "entry " + e.name + " breaks the tiling");
    uint64_t elements = 1;
    for (int64_t d : e.shape) elements *= static_cast<uint64_t>(d);
    if (elements * fmt::dtype_size(e.dtype) != e.end - e.begin) fail(iteration, input, "entry size mismatch");
    for (uint64_t i = e.begin; i < e.end; ++i) checksum += buffer[header.data_start + i];
    covered = e.end;
  }
  if (covered != header.data_size) fail(iteration, input, "data section not covered");
  // Serialising the parsed header again gives a file that parses to the same entries.
  std::string again = fmt::serialize_header(header.entries, header.metadata);
  again.append(reinterpret_cast<const char*>(buffer) + header.data_start, header.data_size);
  const fmt::Header reparsed = fmt::parse_header(reinterpret_cast<const uint8_t*>(again.data()), again.size());
  if (reparsed.entries.size() != header.entries.size() || reparsed.metadata != header.metadata)
    fail(iteration, input, "re-serialised header differs");
  (void)checksum;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s ITERATIONS [SEED]\n", argv[0]);
    return 2;
  }
  const uint64_t iterations = std::strtoull(argv[1], nullptr, 10);
  Rng rng(argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0x5afe7e45u);
  uint64_t accepted = 0, rejected = 0;
  for (uint64_t it = 0; it < iterations; ++it) {
    std::string input = valid_file(rng);
    const size_t rounds = pick(rng, 4);  // 0: the valid file itself
    for (size_t r = 0; r < rounds; ++r) input = coin(rng, 0.4) ? mutate_json(rng, input) : mutate_bytes(rng, input);

    // An exact-size heap copy, so that any read past the end is an ASan report.
    std::unique_ptr<uint8_t[]> buffer(new uint8_t[input.size()]);
    std::memcpy(buffer.get(), input.data(), input.size());
    try {
      const fmt::Header header = fmt::parse_header(buffer.get(), input.size());
      check_accepted(it, input, buffer.get(), input.size(), header);
      ++accepted;
    } catch (const fmt::FormatError&) {
      if (rounds == 0) fail(it, input, "a valid file was rejected");
      ++rejected;
    } catch (const std::exception& e) {
      fail(it, input, std::string("unexpected exception: ") + e.what());
    } catch (...) {
      fail(it, input, "unexpected non-standard exception");
    }
  }
  std::printf("safetensors_fuzz: %llu inputs, %llu accepted, %llu rejected\n",
              static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(accepted),
              static_cast<unsigned long long>(rejected));
  if (iterations >= 100 && (accepted == 0 || rejected == 0)) {
    std::fprintf(stderr, "safetensors_fuzz: FAILED: expected both accepted and rejected inputs\n");
    return 1;
  }
  return 0;
}
