// The models on a CUDA device (ATen paths until the custom kernels take over): the same reference
// fixtures as on the CPU, TF32 off. Skipped without a CUDA device.
#include "testing.h"
#include "xlstm/io/state_dict.h"
#include "xlstm/lm_model.h"

namespace xlstm {
namespace {

class CudaModels : public xlstm::testing::CudaTest {};

TEST_F(CudaModels, LmFixtureLogitsGradientsAndSteps) {
  auto cfg = from_yaml_file<xLSTMLMModelConfig>(testing::fixture_path("lm_model", "config.yaml"));
  xLSTMLMModel model(cfg);
  io::load_state_dict(*model, testing::fixture_path("lm_model", "weights.safetensors"));
  model->to(torch::kCUDA);
  auto io = testing::load_fixture("lm_model", "io.safetensors");
  auto ids = io.at("input_ids").cuda();
  auto [logits, state] = model->forward(ids);
  EXPECT_TRUE(logits.is_cuda());
  XLSTM_EXPECT_CLOSE(logits, io.at("logits"), 1e-5);
  auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, cfg.vocab_size}), io.at("targets").cuda().reshape(-1));
  loss.backward();
  for (const auto& p : model->named_parameters()) {
    SCOPED_TRACE(p.key());
    XLSTM_EXPECT_CLOSE(p.value().grad(), io.at("grad." + p.key()), 1e-5);
  }
  torch::NoGradGuard no_grad;
  XLSTM_EXPECT_CLOSE(testing::step_through(model, ids).first, io.at("step_logits"), 1e-5);
}

TEST_F(CudaModels, LongSequenceBf16StaysFinite) {
  auto cfg = from_yaml_file<xLSTMLMModelConfig>(testing::source_path("configs/xlstm_lm_readme.yaml"));
  torch::manual_seed(0);
  xLSTMLMModel model(cfg);
  model->reset_parameters();
  model->to(torch::kCUDA, torch::kBFloat16);
  torch::NoGradGuard no_grad;
  auto ids = torch::randint(0, cfg.vocab_size, {2, 2048}, torch::TensorOptions().dtype(torch::kLong).device(torch::kCUDA));
  auto [logits, state] = model->forward(ids);  // S > context_length: chunkwise path
  EXPECT_TRUE(torch::isfinite(logits.to(torch::kFloat32)).all().item<bool>());
  EXPECT_EQ(state[0].mlstm.cell.C.scalar_type(), torch::kFloat32);
}

}  // namespace
}  // namespace xlstm
