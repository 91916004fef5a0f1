// A consumer of the xlstm package: builds a model from YAML text, runs it, and checks that the
// XLSTM_WITH_CUDA definition exported by the package matches what CMake said.
#include <iostream>

#include <xlstm/xlstm.h>

int main() {
  static_assert(XLSTM_WITH_CUDA == EXPECT_CUDA, "XLSTM_WITH_CUDA differs between CMake and the compile definition");
  auto config = xlstm::from_yaml<xlstm::xLSTMLMModelConfig>(
      "vocab_size: 17\nembedding_dim: 32\nnum_blocks: 2\ncontext_length: 8\nslstm_at: [1]\n"
      "mlstm_block: {mlstm: {num_heads: 2}}\nslstm_block: {slstm: {num_heads: 2}}\n");
  xlstm::xLSTMLMModel model(config);
  model->reset_parameters();
  auto [logits, state] = model->forward(torch::randint(0, 17, {2, 8}));
  if (logits.sizes() != torch::IntArrayRef({2, 8, 17}) || state.size() != 2) {
    std::cerr << "unexpected output " << logits.sizes() << "\n";
    return 1;
  }
  std::cout << "consumer ok: logits " << logits.sizes() << ", XLSTM_WITH_CUDA=" << XLSTM_WITH_CUDA << "\n";
  return 0;
}
