// The xlstm tool, run as a separate process (its path comes from CMake as XLSTM_CLI): help texts,
// tokenize / detokenize against the library, prepare-data, info, convert, and every error path (one
// line on stderr, exit code 1, or 2 for usage mistakes).
#include <gtest/gtest.h>

#include <set>

#include "cli_testing.h"
#include "temp_dir.h"
#include "testing.h"
#include "tokenizer_testing.h"
#include "xlstm/data/token_file.h"
#include "xlstm/io/pretrained.h"
#include "xlstm/large/pretrained.h"
#include "xlstm/tokenizer/tokenizer.h"

namespace xlstm::testing {
namespace {

#ifdef XLSTM_CLI

const std::vector<std::string> kCommands{"tokenize", "detokenize", "prepare-data", "info", "convert", "train", "generate"};

TEST(CliTool, Help) {
  const CliRun overview = run_cli({"--help"});
  EXPECT_EQ(overview.code, 0);
  for (const auto& c : kCommands) {
    EXPECT_NE(overview.out.find("  " + c + " "), std::string::npos) << overview.out;
    const CliRun help = run_cli({c, "--help"});
    EXPECT_EQ(help.code, 0) << c;
    EXPECT_EQ(help.out.rfind("usage: xlstm " + c + " ", 0), 0u) << help.out;
  }
}

TEST(CliTool, TokenizeAndDetokenize) {
  const std::vector<std::string> lines{"Hello world, don't panic!", "", "  two spaces\tand a tab", "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80",
                                       "last line without newline"};
  std::string input, expected;
  const auto tok = tokenizer::Tokenizer::from_path(gpt2_dir());
  for (size_t i = 0; i < lines.size(); ++i) {
    input += lines[i] + (i + 1 < lines.size() ? "\n" : "");
    const auto ids = tok.encode(lines[i]);
    for (size_t k = 0; k < ids.size(); ++k) expected += (k ? " " : "") + std::to_string(ids[k]);
    expected += "\n";
  }
  const CliRun encoded = run_cli({"tokenize", "--tokenizer", gpt2_dir()}, input);
  ASSERT_EQ(encoded.code, 0) << encoded.err;
  EXPECT_EQ(encoded.out, expected);
  const CliRun decoded = run_cli({"detokenize", "--tokenizer", gpt2_dir()}, encoded.out);
  ASSERT_EQ(decoded.code, 0) << decoded.err;
  EXPECT_EQ(decoded.out, input + "\n");

  // tokenizer.json with its template and special tokens.
  TempDir dir;
  const std::string neox = write_variant(dir, "neox");
  EXPECT_EQ(run_cli({"tokenize", "--tokenizer", neox}, "Hello<|padding|>\n").out, "15496 50257\n");
  EXPECT_EQ(run_cli({"tokenize", "--tokenizer", neox, "--add-special-tokens"}, "Hello\n").out, "50256 15496\n");
  EXPECT_EQ(run_cli({"detokenize", "--tokenizer", neox, "--skip-special-tokens"}, "50256 15496 50257\n").out, "Hello\n");
}

TEST(CliTool, UsageErrors) {
  EXPECT_CLI_ERROR(run_cli({}), 2, "no command given");
  EXPECT_CLI_ERROR(run_cli({"frobnicate"}), 2, "unknown command 'frobnicate'");
  EXPECT_CLI_ERROR(run_cli({"tokenize"}), 2, "xlstm tokenize: error: --tokenizer is required");
  EXPECT_CLI_ERROR(run_cli({"tokenize", "--tokenizer"}), 2, "--tokenizer needs a value");
  EXPECT_CLI_ERROR(run_cli({"tokenize", "--tokenizr", "x"}), 2, "unknown flag --tokenizr");
  EXPECT_CLI_ERROR(run_cli({"tokenize", "--tokenizer", "a", "--tokenizer=b"}), 2, "--tokenizer is given twice");
  EXPECT_CLI_ERROR(run_cli({"detokenize", "--tokenizer", "a", "extra"}), 2, "unexpected argument 'extra'");
  EXPECT_CLI_ERROR(run_cli({"tokenize", "--tokenizer", "a", "--add-special-tokens=yes"}), 2, "takes no value");
  EXPECT_CLI_ERROR(run_cli({"prepare-data", "--corpus", "c", "--tokenizer", "t", "--out", "o", "--val-fraction", "abc"}), 2,
                   "--val-fraction: 'abc' is not a number");
  EXPECT_CLI_ERROR(run_cli({"prepare-data", "--corpus", "c", "--tokenizer", "t", "--out", "o", "--seed", "-1"}), 2, "--seed");
  EXPECT_CLI_ERROR(run_cli({"info"}), 2, "exactly one of --config and --checkpoint");
  EXPECT_CLI_ERROR(run_cli({"convert", "--from", "a", "--to", "b", "--layout", "onnx"}), 2, "'onnx' is not reference or hugging_face");
  EXPECT_CLI_ERROR(run_cli({"convert", "--from", "a", "--to", "b", "--layout", "reference", "--weight-mode", "x"}), 2,
                   "--weight-mode");
}

TEST(CliTool, RuntimeErrors) {
  TempDir dir;
  EXPECT_CLI_ERROR(run_cli({"tokenize", "--tokenizer", dir.file("nope")}), 1, "nope: no such file or folder");
  write_bytes(dir.file("tokenizer.json"), "{\"model\": {\"type\": \"Unigram\"}}");
  EXPECT_CLI_ERROR(run_cli({"detokenize", "--tokenizer", dir.path()}), 1, "tokenizer.json: model.type", "Unigram");
  EXPECT_CLI_ERROR(run_cli({"tokenize", "--tokenizer", gpt2_dir()}, "fine\nbad \xC3(\n"), 1, "line 2", "not valid UTF-8");
  EXPECT_CLI_ERROR(run_cli({"detokenize", "--tokenizer", gpt2_dir()}, "1 2\n3 x4\n"), 1, "line 2: 'x4' is not a token id");
  EXPECT_CLI_ERROR(run_cli({"detokenize", "--tokenizer", gpt2_dir()}, "99999\n"), 1, "line 1", "cannot decode the id 99999");
  EXPECT_CLI_ERROR(run_cli({"prepare-data", "--corpus", dir.file("none"), "--tokenizer", gpt2_dir(), "--out", dir.file("o")}), 1,
                   "none: cannot read the corpus folder");
  EXPECT_CLI_ERROR(run_cli({"prepare-data", "--corpus", dir.path(), "--tokenizer", gpt2_dir(), "--out", dir.file("o"),
                            "--val-fraction", "1.5"}), 1, "[0, 1)");
  write_bytes(dir.file("bad.yaml"), "embedding_dim: 64\nnum_blockz: 2\n");
  EXPECT_CLI_ERROR(run_cli({"info", "--config", dir.file("bad.yaml")}), 1,
                   "neither an xLSTMLMModelConfig", "nor an xLSTMLargeConfig", "num_blockz");
  EXPECT_CLI_ERROR(run_cli({"info", "--checkpoint", dir.file("none")}), 1, "no such checkpoint folder");
  EXPECT_CLI_ERROR(run_cli({"info", "--checkpoint", dir.path()}), 1, "config");
  EXPECT_CLI_ERROR(run_cli({"convert", "--from", dir.path(), "--to", dir.file("x"), "--layout", "reference"}), 1, "config");
}

TEST(CliTool, PrepareData) {
  TempDir corpus, out;
  for (const char* name : {"ca01", "cg22", "cp07"})
    write_bytes(corpus.file(name), read_bytes(shared_dir() + "/data/brown/" + name));
  const CliRun r = run_cli({"prepare-data", "--corpus", corpus.path(), "--tokenizer", gpt2_dir(), "--out", out.path(),
                         "--val-fraction", "0.34", "--seed", "5"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("documents: 2 train, 1 validation"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MB/s"), std::string::npos) << r.out;
  const data::TokenFile train(out.file("train.bin")), val(out.file("val.bin"));
  EXPECT_EQ(train.vocab_size(), 50257);
  EXPECT_NE(r.out.find("tokens: " + std::to_string(train.size()) + " train"), std::string::npos) << r.out;
  EXPECT_GT(val.size(), 1000);
  EXPECT_EQ(out.entries(), (std::vector<std::string>{"prepare.json", "train.bin", "val.bin"}));
}

xLSTMLargeConfig tiny_large_config() {
  xLSTMLargeConfig c;
  c.embedding_dim = 64;
  c.num_heads = 2;
  c.num_blocks = 2;
  c.vocab_size = 97;
  c.mode = "inference";
  c.return_last_states = true;
  return c;
}

int64_t distinct_parameters(const torch::nn::Module& m) {
  std::set<const void*> seen;
  int64_t n = 0;
  for (const auto& p : m.parameters())
    if (seen.insert(p.unsafeGetTensorImpl()).second) n += p.numel();
  return n;
}

std::string with_commas(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

TEST(CliTool, Info) {
  const CliRun lm = run_cli({"info", "--config", source_path("configs/xlstm_lm_readme.yaml")});
  ASSERT_EQ(lm.code, 0) << lm.err;
  EXPECT_NE(lm.out.find("parameters: 13,642,672 "), std::string::npos) << lm.out;  // the reference's count
  EXPECT_NE(lm.out.find("    1  sLSTM"), std::string::npos) << lm.out;
  EXPECT_NE(lm.out.find("    6  mLSTM"), std::string::npos) << lm.out;

  const CliRun big = run_cli({"info", "--config", source_path("configs/xlstm_7b.yaml")});
  ASSERT_EQ(big.code, 0) << big.err;
  const auto cfg7b = from_yaml_file<xLSTMLargeConfig>(source_path("configs/xlstm_7b.yaml"));
  const large::xLSTMLarge meta(cfg7b, torch::TensorOptions().device(torch::kMeta));
  EXPECT_NE(big.out.find("parameters: " + with_commas(distinct_parameters(*meta)) + " "), std::string::npos) << big.out;
  EXPECT_NE(big.out.find("recurrent state 128.3 MiB per sequence"), std::string::npos) << big.out;  // 32 * 8 * (256*512+256+1) * 4 B

  TempDir dir;
  large::xLSTMLarge model(tiny_large_config());
  io::save_checkpoint_folder(*model, tiny_large_config(), dir.file("hf"), io::FolderLayout::hugging_face, 20000);
  const CliRun ckpt = run_cli({"info", "--checkpoint", dir.file("hf")});
  ASSERT_EQ(ckpt.code, 0) << ckpt.err;
  EXPECT_NE(ckpt.out.find("Hugging Face layout"), std::string::npos) << ckpt.out;
  EXPECT_NE(ckpt.out.find("parameters: " + with_commas(distinct_parameters(*model)) + " "), std::string::npos) << ckpt.out;
}

TEST(CliTool, Convert) {
  TempDir dir;
  torch::manual_seed(0);
  large::xLSTMLarge model(tiny_large_config());
  model->eval();
  io::save_checkpoint_folder(*model, tiny_large_config(), dir.file("ref"), io::FolderLayout::reference);
  const CliRun to_hf = run_cli({"convert", "--from", dir.file("ref"), "--to", dir.file("hf"), "--layout", "hugging_face",
                             "--weight-mode", "fused", "--max-shard-bytes", "30000"});
  ASSERT_EQ(to_hf.code, 0) << to_hf.err;
  EXPECT_NE(to_hf.out.find("Hugging Face layout, Float, fused weights"), std::string::npos) << to_hf.out;
  const CliRun back = run_cli({"convert", "--from", dir.file("hf"), "--to", dir.file("ref2"), "--layout", "reference",
                            "--dtype", "bfloat16", "--weight-mode", "single"});
  ASSERT_EQ(back.code, 0) << back.err;

  auto hf = large::load_pretrained_large(dir.file("hf"), {torch::kCPU, torch::kFloat32});
  EXPECT_EQ(hf.config.weight_mode, "fused");
  EXPECT_GT(io::find_checkpoint_files(dir.file("hf")).shard_files.size(), 1u);
  auto ref2 = large::load_pretrained_large(dir.file("ref2"), {torch::kCPU, torch::kFloat32});
  EXPECT_EQ(io::SafetensorsReader(dir.file("ref2") + "/model.safetensors").info("embedding.weight").dtype, torch::kBFloat16);
  const torch::Tensor ids = torch::randint(0, 97, {2, 9}, torch::kLong);
  torch::NoGradGuard no_grad;
  const auto expected = std::get<0>(model->forward(ids));
  XLSTM_EXPECT_CLOSE(std::get<0>(hf.model->forward(ids)), expected, 1e-5);
  XLSTM_EXPECT_CLOSE(std::get<0>(ref2.model->forward(ids)), expected, 2e-2);  // weights rounded to bf16

  // A folder that is not a checkpoint folder is never replaced.
  EXPECT_CLI_ERROR(run_cli({"convert", "--from", dir.file("ref"), "--to", dir.path(), "--layout", "reference"}), 1,
                   "is not a checkpoint folder", "not replacing it");
}

#else
TEST(CliTool, NotBuilt) { GTEST_SKIP() << "the xlstm tool is not built (XLSTM_BUILD_TOOL=OFF)"; }
#endif

}  // namespace
}  // namespace xlstm::testing
