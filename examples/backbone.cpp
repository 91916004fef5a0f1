// xLSTM as a drop-in backbone of a C++ LibTorch model: the README's 7-block stack (mLSTM blocks with
// one sLSTM block) between an input projection and a regression head, trained with AdamW on a
// delayed-recall task (y_t = x_{t-delay}), with truncated back-propagation through time: each long
// sequence is cut into segments and the recurrent state is carried (detached) from one to the next.
//
//   xlstm_backbone [--config configs/xlstm_lm_readme.yaml] [--steps 150] [--device cpu|cuda]
#include <iomanip>
#include <iostream>
#include <string>

#include <xlstm/xlstm.h>

namespace {

// Input projection -> xLSTMBlockStack -> linear head.
struct RegressorImpl : torch::nn::Module {
  RegressorImpl(const xlstm::xLSTMBlockStackConfig& cfg, int64_t in_dim, int64_t out_dim) {
    proj_in = register_module("proj_in", torch::nn::Linear(in_dim, cfg.embedding_dim));
    backbone = register_module("backbone", xlstm::xLSTMBlockStack(cfg));
    head = register_module("head", torch::nn::Linear(cfg.embedding_dim, out_dim));
    backbone->reset_parameters();
  }
  std::tuple<torch::Tensor, xlstm::xLSTMStackState> forward(const torch::Tensor& x, const xlstm::xLSTMStackState& s) {
    auto [h, next] = backbone->forward(proj_in->forward(x), s);
    return {head->forward(h), next};
  }
  torch::nn::Linear proj_in{nullptr}, head{nullptr};
  xlstm::xLSTMBlockStack backbone{nullptr};
};
TORCH_MODULE(Regressor);

// Detaches every tensor of a stack state, so gradients stop at the segment boundary.
xlstm::xLSTMStackState detach(xlstm::xLSTMStackState state) {
  for (auto& b : state) {
    for (auto* t : {&b.mlstm.conv, &b.mlstm.cell.C, &b.mlstm.cell.n, &b.mlstm.cell.m, &b.slstm.conv, &b.slstm.slstm})
      if (t->defined()) *t = t->detach();
  }
  return state;
}

}  // namespace

int main(int argc, char** argv) try {
  std::string config_path = "configs/xlstm_lm_readme.yaml", device_name = "cpu";
  int64_t steps = 150;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--config") config_path = value;
    else if (flag == "--steps") steps = std::stoll(value);
    else if (flag == "--device") device_name = value;
    else throw std::invalid_argument("unknown flag " + flag);
  }
  const torch::Device device(device_name);
  // The LM config's stack part is the backbone (its vocabulary is unused here).
  xlstm::xLSTMBlockStackConfig cfg = xlstm::from_yaml_file<xlstm::xLSTMLMModelConfig>(config_path);
  torch::manual_seed(0);
  Regressor model(cfg, /*in_dim=*/4, /*out_dim=*/4);
  model->to(device);
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(2e-3).weight_decay(0.01));

  const int64_t batch = 16, segment = 32, segments = 4, delay = 3;
  std::cout << "backbone: " << cfg.num_blocks << " blocks (" << cfg._block_map << "), E=" << cfg.embedding_dim
            << "; task: y_t = x_{t-" << delay << "}, " << segments << " segments of " << segment << " steps\n";
  double first = 0, last = 0;
  for (int64_t step = 1; step <= steps; ++step) {
    auto x = torch::randn({batch, segment * segments, 4}, torch::TensorOptions().device(device));
    auto y = torch::zeros_like(x);
    y.narrow(1, delay, x.size(1) - delay).copy_(x.narrow(1, 0, x.size(1) - delay));
    xlstm::xLSTMStackState state;
    double loss_sum = 0;
    for (int64_t s = 0; s < segments; ++s) {
      auto [pred, next] = model->forward(x.narrow(1, s * segment, segment), state);
      auto loss = torch::mse_loss(pred, y.narrow(1, s * segment, segment));
      opt.zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
      opt.step();
      state = detach(next);
      loss_sum += loss.item<double>();
    }
    const double loss = loss_sum / segments;
    if (step == 1) first = loss;
    last = loss;
    if (step == 1 || step % 25 == 0)
      std::cout << "step " << std::setw(4) << step << "  mse " << std::fixed << std::setprecision(4) << loss << "\n";
  }
  std::cout << "mse " << first << " -> " << last << (last < 0.5 * first ? " (learned)\n" : " (not learned yet)\n");
  return last < first ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
