// Safetensors reading and writing: round trips of every dtype, zero-copy views, the reference
// fixtures, and hostile files that must raise CheckpointError with a precise message.
#include <cstring>

#include "temp_dir.h"
#include "testing.h"

namespace xlstm::testing {
namespace {

using io::SafetensorsReader;

// u64 little-endian length of `header`, the header, then `data`; `length` overrides the length field.
std::string raw_file(const std::string& header, const std::string& data, int64_t length = -1) {
  const uint64_t n = length < 0 ? header.size() : static_cast<uint64_t>(length);
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::map<std::string, torch::Tensor> every_dtype() {
  torch::manual_seed(0);
  std::map<std::string, torch::Tensor> t;
  t["f64"] = torch::randn({3, 2}, torch::kFloat64);
  t["f32"] = torch::randn({2, 3, 4});
  t["f16"] = torch::randn({5}).to(torch::kFloat16);
  t["bf16"] = torch::randn({4, 3}).to(torch::kBFloat16);
  t["i64"] = torch::tensor({std::numeric_limits<int64_t>::min(), int64_t{-1}, std::numeric_limits<int64_t>::max()});
  t["i32"] = torch::randint(-1000, 1000, {7}, torch::kInt32);
  t["i16"] = torch::randint(-300, 300, {2, 2}, torch::kInt16);
  t["i8"] = torch::randint(-128, 128, {3}, torch::kInt8);
  t["u8"] = torch::randint(0, 256, {9}, torch::kUInt8);
  t["bool"] = torch::tensor({true, false, true});
  t["scalar"] = torch::tensor(3.5);                        // 0-d
  t["empty"] = torch::zeros({0, 3});                       // no bytes
  t["strided"] = torch::arange(12.0).reshape({3, 4}).t();  // saved as a contiguous copy
  return t;
}

TEST(SafetensorsRoundTrip, EveryDtypeScalarEmptyAndMetadata) {
  TempDir dir;
  const auto tensors = every_dtype();
  const std::map<std::string, std::string> metadata{{"format", "pt"}, {"note", "ünïcode ✓"}};
  io::save_safetensors(dir.file("all.safetensors"), tensors, metadata);

  const auto loaded = io::load_safetensors(dir.file("all.safetensors"));
  ASSERT_EQ(loaded.size(), tensors.size());
  for (const auto& [name, expected] : tensors) {
    const auto& got = loaded.at(name);
    EXPECT_EQ(got.scalar_type(), expected.scalar_type()) << name;
    EXPECT_EQ(got.sizes(), expected.sizes()) << name;
    EXPECT_TRUE(torch::equal(got, expected)) << name;
  }
  SafetensorsReader reader(dir.file("all.safetensors"));
  EXPECT_EQ(reader.metadata(), metadata);
  EXPECT_EQ(reader.info("bf16").dtype, torch::kBFloat16);
  EXPECT_EQ(reader.info("scalar").shape, std::vector<int64_t>{});
}

TEST(SafetensorsRoundTrip, LayoutIsAlignedAndPadded) {
  TempDir dir;
  io::save_safetensors(dir.file("a.safetensors"), every_dtype());
  const std::string bytes = read_bytes(dir.file("a.safetensors"));
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ((8 + n) % 8, 0u) << "header padded to 8 bytes";
  EXPECT_EQ(bytes.substr(8, 1), "{");

  SafetensorsReader reader(dir.file("a.safetensors"));
  uint64_t previous_end = 0;
  for (const auto& name : reader.keys()) {  // data order: contiguous, every tensor aligned in the file
    const auto& info = reader.info(name);
    EXPECT_EQ(info.begin, previous_end) << name;
    EXPECT_EQ((8 + n + info.begin) % c10::elementSize(info.dtype), 0u) << name;
    previous_end = info.end;
  }
  EXPECT_EQ(8 + n + previous_end, bytes.size());
}

TEST(SafetensorsReader, ZeroCopyViewSharesTheMapping) {
  TempDir dir;
  const auto original = torch::arange(16, torch::kFloat32).reshape({4, 4});
  io::save_safetensors(dir.file("v.safetensors"), {{"w", original}});

  torch::Tensor view, again, copy;
  {
    SafetensorsReader reader(dir.file("v.safetensors"));
    view = reader.tensor("w");
    again = reader.tensor("w");
    copy = reader.tensor("w", /*copy=*/true);
  }  // the views keep the mapping alive after the reader is gone
  EXPECT_EQ(view.data_ptr(), again.data_ptr());
  EXPECT_NE(view.data_ptr(), copy.data_ptr());
  EXPECT_TRUE(torch::equal(view, original));

  view.mul_(2);  // copy-on-write pages: visible through the other view, never in the file or the copy
  EXPECT_TRUE(torch::equal(again, original * 2));
  EXPECT_TRUE(torch::equal(copy, original));
  EXPECT_TRUE(torch::equal(io::load_safetensors(dir.file("v.safetensors")).at("w"), original));
}

TEST(SafetensorsReader, UnalignedTensorIsCopied) {
  TempDir dir;
  // A 1-byte U8 tensor first puts the F32 tensor at an odd address; the header is 8-aligned.
  std::string header =
      R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  const float values[2] = {1.5f, -2.25f};
  std::string data(1, '\x07');
  data.append(reinterpret_cast<const char*>(values), sizeof(values));
  write_bytes(dir.file("u.safetensors"), raw_file(header, data));

  SafetensorsReader reader(dir.file("u.safetensors"));
  EXPECT_EQ(reader.keys(), (std::vector<std::string>{"a", "b"}));
  const auto b = reader.tensor("b");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data_ptr()) % alignof(float), 0u);
  EXPECT_TRUE(torch::equal(b, torch::tensor({1.5f, -2.25f})));
  EXPECT_EQ(reader.tensor("a").item<uint8_t>(), 7);
}

TEST(SafetensorsReader, KeysContainsAndMissingName) {
  TempDir dir;
  const auto path = dir.file("k.safetensors");
  io::save_safetensors(path, {{"z", torch::zeros({2}, torch::kFloat64)}, {"a", torch::zeros({3}, torch::kInt8)}});
  SafetensorsReader reader(path);
  EXPECT_EQ(reader.keys(), (std::vector<std::string>{"z", "a"}));  // data order: 8-byte dtypes first
  EXPECT_TRUE(reader.contains("a"));
  EXPECT_FALSE(reader.contains("b"));
  EXPECT_EQ(reader.path(), path);
  try {
    reader.tensor("b");
    FAIL() << "expected CheckpointError";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": no tensor named \"b\"");
  }
}

TEST(SafetensorsFixtures, EveryFixtureFileLoads) {
  // Tensor counts, counted in Python with json.loads of each file's header (minus __metadata__).
  const std::map<std::string, size_t> counts{{"block_stack", 56}, {"feedforward", 2}, {"lm_model", 44},
                                             {"mlstm_layer", 13}, {"slstm_layer", 9}, {"xlstm_large", 33}};
  for (const auto& [name, count] : counts) {
    EXPECT_EQ(load_fixture(name, "weights.safetensors").size(), count) << name;
    EXPECT_FALSE(load_fixture(name, "io.safetensors").empty()) << name;
  }
  EXPECT_EQ(SafetensorsReader(fixture_path("feedforward", "weights.safetensors")).metadata(),
            (std::map<std::string, std::string>{{"format", "pt"}}));
}

TEST(SafetensorsFixtures, ValuesMatchPython) {
  // Reference values from Python: the bytes of each entry read with torch.frombuffer (using the
  // header's dtype, shape and data_offsets), then t.double().sum().item() and t.flatten()[0].item().
  struct Expected {
    const char* fixture;
    const char* file;
    const char* key;
    c10::ScalarType dtype;
    std::vector<int64_t> shape;
    double sum;
    double first;
  };
  const Expected cases[] = {
      {"feedforward", "weights.safetensors", "proj_up.weight", torch::kFloat32, {128, 32}, -2.033256268419791,
       0.17730093002319336},
      {"feedforward", "weights.safetensors", "proj_down.weight", torch::kFloat32, {32, 64}, -6.597617071354762,
       0.39279597997665405},
      {"feedforward", "io.safetensors", "y", torch::kFloat32, {3, 5, 32}, 35.4103379000444, 0.8447176814079285},
      {"slstm_layer", "io.safetensors", "slstm_state", torch::kFloat32, {4, 2, 32}, 105.18378672283143,
       0.11362676322460175},
      {"lm_model", "io.safetensors", "input_ids", torch::kInt64, {2, 24}, 1060.0, 32.0},
      {"lm_model", "io.safetensors", "loss", torch::kFloat32, {1}, 4.1392502784729, 4.1392502784729},
  };
  for (const auto& c : cases) {
    SafetensorsReader reader(fixture_path(c.fixture, c.file));
    const auto t = reader.tensor(c.key);
    SCOPED_TRACE(std::string(c.fixture) + "/" + c.file + ":" + c.key);
    EXPECT_EQ(t.scalar_type(), c.dtype);
    EXPECT_EQ(t.sizes().vec(), c.shape);
    EXPECT_NEAR(t.to(torch::kFloat64).sum().item<double>(), c.sum, 1e-9 * (1 + std::abs(c.sum)));
    EXPECT_EQ(t.flatten()[0].to(torch::kFloat64).item<double>(), c.first);
  }
}

// ---------------------------------------------------------------- hostile files
struct Hostile {
  const char* name;
  std::string bytes;
  const char* fragment;  // expected in the message, after "<path>: "
};

std::string entry(const std::string& body) { return "{\"t\":" + body + "}"; }
const std::string kF32x2 = R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})";

std::vector<Hostile> hostile_files() {
  const std::string eight(8, '\0');
  return {
      {"Empty", "", "file is 0 bytes, shorter than the 8-byte header length"},
      {"FiveBytes", "\x01\x02\x03\x04\x05", "file is 5 bytes"},
      {"HugeHeaderLength", raw_file("{}", "", int64_t{1} << 40), "header length 1099511627776 exceeds the limit"},
      {"HeaderLengthPastEnd", raw_file("{}", "", 64), "header length 64 exceeds the 2 bytes"},
      {"NotJson", raw_file("{\"t\": nope}", ""), "header is not valid JSON"},
      {"TruncatedJson", raw_file("{\"t\": {", ""), "header is not valid JSON"},
      {"NotAnObject", raw_file("[1, 2]", ""), "header must be a JSON object, got [1,2]"},
      {"EntryNotObject", raw_file(entry("5"), ""), "entry \"t\" must be an object, got 5"},
      {"MissingField", raw_file(entry(R"({"dtype":"F32","data_offsets":[0,0]})"), ""),
       "entry \"t\": missing field \"shape\""},
      {"ExtraField", raw_file(entry(R"({"dtype":"F32","shape":[],"data_offsets":[0,4],"x":1})"), "abcd"),
       "entry \"t\": unexpected field \"x\""},
      {"DtypeNotString", raw_file(entry(R"({"dtype":4,"shape":[],"data_offsets":[0,4]})"), "abcd"),
       "entry \"t\": dtype must be a string, got 4"},
      {"UnknownDtype", raw_file(entry(R"({"dtype":"F7","shape":[],"data_offsets":[0,4]})"), "abcd"),
       "entry \"t\": unknown dtype \"F7\""},
      {"UnsupportedDtype", raw_file(entry(R"({"dtype":"F8_E4M3","shape":[],"data_offsets":[0,1]})"), "a"),
       "entry \"t\": unsupported dtype \"F8_E4M3\""},
      {"ShapeNotList", raw_file(entry(R"({"dtype":"F32","shape":2,"data_offsets":[0,8]})"), eight),
       "entry \"t\": shape must be a list of integers, got 2"},
      {"NegativeDim", raw_file(entry(R"({"dtype":"F32","shape":[2,-1],"data_offsets":[0,8]})"), eight),
       "entry \"t\": shape[1] is -1, not a non-negative 64-bit integer"},
      {"FloatDim", raw_file(entry(R"({"dtype":"F32","shape":[2.0],"data_offsets":[0,8]})"), eight),
       "entry \"t\": shape[0] is 2.0, not a non-negative 64-bit integer"},
      {"HugeDim", raw_file(entry(R"({"dtype":"F32","shape":[1e30],"data_offsets":[0,8]})"), eight),
       "entry \"t\": shape[0] is 1e+30"},
      {"ShapeOverflow",
       raw_file(entry(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]})"), eight),
       "entry \"t\": shape [4294967296, 4294967296] is too large (its element count overflows 64 bits)"},
      {"ByteSizeOverflow",
       raw_file(entry(R"({"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]})"), eight),
       "(its byte size overflows 64 bits)"},
      {"OffsetsNotPair", raw_file(entry(R"({"dtype":"F32","shape":[2],"data_offsets":[0]})"), eight),
       "entry \"t\": data_offsets must be two non-negative integers, got [0]"},
      {"NegativeOffset", raw_file(entry(R"({"dtype":"F32","shape":[2],"data_offsets":[-8,0]})"), eight),
       "data_offsets must be two non-negative integers, got [-8,0]"},
      {"BeginAfterEnd", raw_file(entry(R"({"dtype":"F32","shape":[0],"data_offsets":[8,4]})"), eight),
       "entry \"t\": data_offsets [8, 4] has begin > end"},
      {"SizeMismatch", raw_file(entry(R"({"dtype":"F32","shape":[2],"data_offsets":[0,4]})"), "abcd"),
       "entry \"t\": data_offsets [0, 4] span 4 bytes but dtype F32 with shape [2] needs 8"},
      {"BeyondData", raw_file(entry(kF32x2), "abcd"),
       "entry \"t\": data_offsets [0, 8] extend beyond the data section of 4 bytes"},
      {"Overlap",
       raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                std::string(12, 'x')),
       "entry \"b\" data_offsets [4, 12] overlap entry \"a\" [0, 8]"},
      {"Gap",
       raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                std::string(12, 'x')),
       "bytes [4, 8) of the data section belong to no tensor (gap before entry \"b\")"},
      {"TrailingBytes", raw_file(entry(kF32x2), std::string(12, 'x')),
       "the data section has 12 bytes but the tensors cover only 8 (trailing bytes)"},
      {"MetadataNotObject", raw_file(R"({"__metadata__":["a"]})", ""),
       "__metadata__ must be an object of strings, got [\"a\"]"},
      {"MetadataNotString", raw_file(R"({"__metadata__":{"k":1}})", ""), "__metadata__[\"k\"] must be a string, got 1"},
      {"DuplicateEntry", raw_file("{\"t\":" + kF32x2 + ",\"t\":" + kF32x2 + "}", eight),
       "header has the key \"t\" more than once"},
      {"DuplicateField", raw_file(R"({"t":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})", eight),
       "header has the key \"dtype\" more than once"},
      {"InvalidUtf8", raw_file("{\"\xff\":" + kF32x2 + "}", eight), "header is not valid JSON"},
  };
}

class HostileFile : public ::testing::TestWithParam<Hostile> {};

TEST_P(HostileFile, RaisesCheckpointErrorNamingFileAndProblem) {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  write_bytes(path, GetParam().bytes);
  try {
    SafetensorsReader reader(path);
    FAIL() << "accepted a hostile file";
  } catch (const CheckpointError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(GetParam().fragment), std::string::npos) << message;
  }
  EXPECT_THROW(io::load_safetensors(path), CheckpointError);
}

INSTANTIATE_TEST_SUITE_P(Safetensors, HostileFile, ::testing::ValuesIn(hostile_files()),
                         [](const ::testing::TestParamInfo<Hostile>& info) { return std::string(info.param.name); });

TEST(SafetensorsHostileData, BoolBytesOtherThanZeroOrOneAreRejected) {
  TempDir dir;
  const std::string path = dir.file("bool.safetensors");
  write_bytes(path, raw_file(R"({"b":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})", std::string("\x01\x00\x02", 3)));
  SafetensorsReader reader(path);  // the header is valid
  EXPECT_THROW(
      {
        try {
          reader.tensor("b");
        } catch (const CheckpointError& e) {
          EXPECT_EQ(std::string(e.what()), path + ": entry \"b\" (BOOL) holds byte 2 at element 2, not 0 or 1");
          throw;
        }
      },
      CheckpointError);
}

TEST(SafetensorsHostileData, MissingFileAndFolder) {
  TempDir dir;
  EXPECT_THROW(SafetensorsReader(dir.file("absent.safetensors")), CheckpointError);
  try {
    SafetensorsReader reader(dir.path());
    FAIL() << "read a folder";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(std::string(e.what()), dir.path() + ": not a regular file");
  }
}

// ---------------------------------------------------------------- writing
TEST(SafetensorsSave, RejectsWhatTheFormatCannotHold) {
  TempDir dir;
  const std::string path = dir.file("w.safetensors");
  io::save_safetensors(path, {{"good", torch::ones({2})}});
  const std::string before = read_bytes(path);

  const auto expect_error = [&](const std::map<std::string, torch::Tensor>& tensors,
                                const std::map<std::string, std::string>& metadata, const std::string& fragment) {
    try {
      io::save_safetensors(path, tensors, metadata);
      ADD_FAILURE() << "saved, expected: " << fragment;
    } catch (const CheckpointError& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
      EXPECT_NE(message.find(fragment), std::string::npos) << message;
    }
  };
  expect_error({{"c", torch::zeros({2}, torch::kComplexFloat)}}, {}, "tensor \"c\" has dtype ComplexFloat");
  expect_error({{"u", torch::Tensor()}}, {}, "tensor \"u\" is undefined");
  expect_error({{"__metadata__", torch::ones({1})}}, {}, "entry name \"__metadata__\" is reserved");
  expect_error({{std::string("bad\xff"), torch::ones({1})}}, {}, "is not valid UTF-8");
  expect_error({{"x", torch::ones({1})}}, {{"k", std::string("\xc3")}}, "metadata value of \"k\": ");

  // The failed saves left the previous file and no temporary files behind.
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"w.safetensors"});
}

TEST(SafetensorsSave, OverwritesAtomicallyAndIntoMissingFolderFails) {
  TempDir dir;
  const std::string path = dir.file("o.safetensors");
  io::save_safetensors(path, {{"a", torch::ones({2})}});
  io::save_safetensors(path, {{"b", torch::zeros({3}, torch::kInt32)}});
  const auto loaded = io::load_safetensors(path);
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_TRUE(torch::equal(loaded.at("b"), torch::zeros({3}, torch::kInt32)));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"o.safetensors"});
  EXPECT_THROW(io::save_safetensors(dir.file("no/such/dir.safetensors"), {{"a", torch::ones({1})}}), CheckpointError);
}

}  // namespace
}  // namespace xlstm::testing
