// xLSTM-Large on a CUDA device (ATen paths until the custom kernels take over): the reference fixture
// with the model built directly on the GPU (TF32 off), generation on the GPU (greedy equal to the CPU,
// seeded sampling with a device generator, a padded batch). Skipped without a CUDA device.
#include "large_testing.h"
#include "testing.h"
#include "xlstm/generate.h"
#include "xlstm/io/state_dict.h"

namespace xlstm {
namespace {

class LargeCuda : public xlstm::testing::CudaTest {};

TEST_F(LargeCuda, FixtureOnTheGpu) {
  auto cfg = from_yaml_file<xLSTMLargeConfig>(testing::fixture_path("xlstm_large", "config.yaml"));
  large::xLSTMLarge model(cfg, torch::TensorOptions().device(torch::kCUDA));
  io::load_state_dict(*model, testing::fixture_path("xlstm_large", "weights.safetensors"));
  const auto io = testing::load_fixture("xlstm_large", "io.safetensors");
  const auto ids = io.at("input_ids").cuda();
  torch::NoGradGuard no_grad;
  auto [logits, state] = model->forward(ids);
  EXPECT_TRUE(logits.is_cuda());
  XLSTM_EXPECT_CLOSE(logits, io.at("logits"), 1e-5);
  for (std::size_t b = 0; b < state.size(); ++b)
    XLSTM_EXPECT_CLOSE(state[b].C, io.at("state." + std::to_string(b) + ".c"), 1e-5);
  XLSTM_EXPECT_CLOSE(testing::step_through(model, ids).first, io.at("step_logits"), 1e-5);
  std::cout << "[xlstm_large fixture, cuda] rel error logits " << testing::rel_error(logits, io.at("logits")) << "\n";
}

TEST_F(LargeCuda, GenerationOnTheGpu) {
  const auto cfg = testing::small_large_config("inference", 8);
  auto cpu = testing::seeded_large_model(cfg, 51);
  large::xLSTMLarge gpu(cfg, torch::TensorOptions().device(torch::kCUDA));
  io::load_state_dict(*gpu, io::state_dict(*cpu));
  const std::vector<std::vector<int64_t>> prompts = {{1, 2, 3, 4, 5, 6, 7}, {9, 8}, {30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40}};
  GenerationConfig greedy;
  greedy.max_new_tokens = 16;
  const auto on_gpu = generate(gpu, prompts, greedy);
  EXPECT_EQ(on_gpu.tokens, generate(cpu, prompts, greedy).tokens);
  EXPECT_TRUE(on_gpu.state[0].C.is_cuda());
  for (std::size_t b = 0; b < prompts.size(); ++b)
    EXPECT_EQ(generate(gpu, {prompts[b]}, greedy).tokens[0], on_gpu.tokens[b]) << "prompt " << b;

  GenerationConfig sampled = greedy;
  sampled.do_sample = true;
  sampled.temperature = 1.5;
  sampled.top_p = 0.95;
  sampled.seed = 77;
  const auto a = generate(gpu, prompts, sampled);
  EXPECT_EQ(generate(gpu, prompts, sampled).tokens, a.tokens);
  sampled.seed = 78;
  EXPECT_NE(generate(gpu, prompts, sampled).tokens, a.tokens);
}

}  // namespace
}  // namespace xlstm
