// State dicts: PyTorch names for parameters and buffers, strict and non-strict loading, dtype
// conversion, tied parameters, and modules left untouched by failed loads.
#include "temp_dir.h"
#include "testing.h"
#include "xlstm/io/state_dict.h"

namespace xlstm::testing {
namespace {

using io::LoadResult;

// fc1 (4 -> 8), a nested Sequential(Linear 8 -> 3, BatchNorm1d 3) and a plain buffer.
struct NetImpl : torch::nn::Module {
  NetImpl() {
    fc1 = register_module("fc1", torch::nn::Linear(4, 8));
    head = register_module("head", torch::nn::Sequential(torch::nn::Linear(8, 3), torch::nn::BatchNorm1d(3)));
    scale = register_buffer("scale", torch::full({3}, 2.0));
  }
  torch::nn::Linear fc1{nullptr};
  torch::nn::Sequential head{nullptr};
  torch::Tensor scale;
};
TORCH_MODULE(Net);

// A token embedding and an output head sharing one weight tensor, as in tied language models.
struct HeadImpl : torch::nn::Module {
  explicit HeadImpl(const torch::Tensor& tied) { weight = register_parameter("weight", tied); }
  torch::Tensor weight;
};
TORCH_MODULE(Head);
struct TiedLMImpl : torch::nn::Module {
  TiedLMImpl() {
    token_embedding = register_module("token_embedding", torch::nn::Embedding(10, 4));
    lm_head = register_module("lm_head", Head(token_embedding->weight));
  }
  torch::nn::Embedding token_embedding{nullptr};
  Head lm_head{nullptr};
};
TORCH_MODULE(TiedLM);

std::map<std::string, torch::Tensor> clones(const torch::nn::Module& module) {
  auto tensors = io::state_dict(module);
  for (auto& [name, t] : tensors) t = t.clone();
  return tensors;
}

void expect_same(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << name;
}

TEST(StateDict, NamesAreThoseOfPyTorch) {
  Net net;
  std::vector<std::string> names;
  for (const auto& [name, t] : io::state_dict(*net)) names.push_back(name);
  // PyTorch: the same modules give these state_dict() keys (BatchNorm buffers included).
  const std::vector<std::string> expected{"fc1.bias",           "fc1.weight",          "head.0.bias",
                                          "head.0.weight",      "head.1.bias",         "head.1.num_batches_tracked",
                                          "head.1.running_mean", "head.1.running_var", "head.1.weight",
                                          "scale"};
  EXPECT_EQ(names, expected);
  const auto dict = io::state_dict(*net);
  EXPECT_FALSE(dict.at("fc1.weight").requires_grad());
  EXPECT_EQ(dict.at("fc1.weight").data_ptr(), net->fc1->weight.data_ptr());  // shares memory
}

TEST(StateDict, RoundTripThroughFile) {
  TempDir dir;
  torch::manual_seed(1);
  Net source;
  source->scale.fill_(7);
  io::save_state_dict(*source, dir.file("net.safetensors"), {{"step", "3"}});
  torch::manual_seed(2);
  Net target;
  const LoadResult result = io::load_state_dict(*target, dir.file("net.safetensors"));
  EXPECT_TRUE(result.ok());
  expect_same(io::state_dict(*target), io::state_dict(*source));
  EXPECT_TRUE(target->fc1->weight.requires_grad());  // still a trainable parameter
  EXPECT_EQ(io::SafetensorsReader(dir.file("net.safetensors")).metadata().at("step"), "3");
}

// fc1.weight has the wrong shape, head.0.bias and scale are absent, two names are unknown.
std::map<std::string, torch::Tensor> bad_checkpoint() {
  torch::manual_seed(3);
  auto tensors = clones(*Net());
  tensors["fc1.weight"] = torch::zeros({8, 5});
  tensors.erase("head.0.bias");
  tensors.erase("scale");
  tensors["extra.weight"] = torch::zeros({1});
  tensors["head.2.bias"] = torch::zeros({3});
  for (auto& [name, t] : tensors) t.fill_(5);
  return tensors;
}

TEST(StateDict, StrictErrorListsEveryProblemAndLeavesModuleUnchanged) {
  Net net;
  const auto before = clones(*net);
  try {
    io::load_state_dict(*net, bad_checkpoint());
    FAIL() << "strict load accepted a checkpoint that does not fit";
  } catch (const CheckpointError& e) {
    const std::string message = e.what();
    for (const char* fragment :
         {"load_state_dict: the checkpoint does not fit the model: 2 missing, 2 unexpected, 1 mismatched",
          "\n  missing: head.0.bias", "\n  missing: scale", "\n  unexpected: extra.weight",
          "\n  unexpected: head.2.bias", "\n  mismatched: fc1.weight: checkpoint (8, 5) vs model (8, 4)"})
      EXPECT_NE(message.find(fragment), std::string::npos) << fragment << "\nnot in:\n" << message;
  }
  expect_same(io::state_dict(*net), before);
}

TEST(StateDict, StrictFileErrorNamesTheFile) {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  io::save_safetensors(path, bad_checkpoint());
  Net net;
  const auto before = clones(*net);
  try {
    io::load_state_dict(*net, path);
    FAIL() << "strict load accepted a checkpoint that does not fit";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": the checkpoint does not fit the model: 2 missing", 0), 0u)
        << e.what();
  }
  expect_same(io::state_dict(*net), before);
}

TEST(StateDict, NonStrictLoadsWhatFitsAndReportsTheRest) {
  Net net;
  const auto before = clones(*net);
  const LoadResult result = io::load_state_dict(*net, bad_checkpoint(), /*strict=*/false);
  EXPECT_EQ(result.missing, (std::vector<std::string>{"head.0.bias", "scale"}));
  EXPECT_EQ(result.unexpected, (std::vector<std::string>{"extra.weight", "head.2.bias"}));
  EXPECT_EQ(result.mismatched, (std::vector<std::string>{"fc1.weight: checkpoint (8, 5) vs model (8, 4)"}));
  EXPECT_FALSE(result.ok());
  const auto after = io::state_dict(*net);
  for (const auto& [name, t] : after) {
    const bool loaded = name != "head.0.bias" && name != "scale" && name != "fc1.weight";
    EXPECT_EQ(torch::equal(t, before.at(name)), !loaded) << name;
    if (loaded) EXPECT_TRUE(torch::all(t == 5).item<bool>()) << name;
  }
}

TEST(StateDict, ConvertsToTheParameterDtype) {
  TempDir dir;
  torch::manual_seed(4);
  Net fp32;
  io::save_state_dict(*fp32, dir.file("fp32.safetensors"));

  Net bf16;
  bf16->to(torch::kBFloat16);
  io::load_state_dict(*bf16, dir.file("fp32.safetensors"));
  EXPECT_EQ(bf16->fc1->weight.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::equal(bf16->fc1->weight, fp32->fc1->weight.to(torch::kBFloat16)));

  io::save_state_dict(*bf16, dir.file("bf16.safetensors"));
  EXPECT_EQ(io::SafetensorsReader(dir.file("bf16.safetensors")).info("fc1.weight").dtype, torch::kBFloat16);
  Net back;
  io::load_state_dict(*back, dir.file("bf16.safetensors"));
  EXPECT_EQ(back->fc1->weight.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(back->fc1->weight, bf16->fc1->weight.to(torch::kFloat32)));
}

TEST(StateDict, TiedParametersAppearUnderBothNamesAndStayTied) {
  TempDir dir;
  torch::manual_seed(5);
  TiedLM source;
  const auto dict = io::state_dict(*source);
  ASSERT_EQ(dict.size(), 2u);
  EXPECT_EQ(dict.at("lm_head.weight").data_ptr(), dict.at("token_embedding.weight").data_ptr());
  io::save_state_dict(*source, dir.file("tied.safetensors"));

  torch::manual_seed(6);
  TiedLM target;
  EXPECT_TRUE(io::load_state_dict(*target, dir.file("tied.safetensors")).ok());
  EXPECT_TRUE(torch::equal(target->token_embedding->weight, source->token_embedding->weight));
  EXPECT_EQ(target->lm_head->weight.data_ptr(), target->token_embedding->weight.data_ptr());

  // A checkpoint that stores the tied weight under one name only is missing the other.
  auto one_name = clones(*source);
  one_name.erase("lm_head.weight");
  EXPECT_EQ(io::load_state_dict(*target, one_name, /*strict=*/false).missing,
            std::vector<std::string>{"lm_head.weight"});
}

TEST(StateDict, UndefinedCheckpointTensorIsAMismatch) {
  Net net;
  auto tensors = clones(*net);
  tensors["scale"] = torch::Tensor();
  EXPECT_EQ(io::load_state_dict(*net, tensors, /*strict=*/false).mismatched,
            std::vector<std::string>{"scale: checkpoint tensor is undefined"});
}

TEST(StateDict, HostileFileLeavesModuleUnchanged) {
  TempDir dir;
  Net net;
  io::save_state_dict(*net, dir.file("ok.safetensors"));
  std::string bytes = read_bytes(dir.file("ok.safetensors"));
  bytes.resize(bytes.size() - 3);  // truncated download
  write_bytes(dir.file("cut.safetensors"), bytes);
  const auto before = clones(*net);
  try {
    io::load_state_dict(*net, dir.file("cut.safetensors"));
    FAIL() << "loaded a truncated file";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(dir.file("cut.safetensors") + ": ", 0), 0u) << e.what();
  }
  expect_same(io::state_dict(*net), before);
}

}  // namespace
}  // namespace xlstm::testing
