// The three backend modes of xLSTM-Large on top of the one kernel dispatch point.
#include "xlstm/large/backend.h"

#include <vector>

#include "xlstm/mlstm/backends.h"
#include "xlstm/ops.h"

namespace xlstm::large {

namespace {

// Smallest chunk the inference mode still processes chunkwise (mlstm_kernels' limit).
constexpr int64_t kMinInferenceChunk = 16;

mLSTMState start_state(const mLSTMState& state, const torch::Tensor& q, const torch::Tensor& v) {
  if (state.defined()) return state;
  return mlstm_zero_state(q.size(0), q.size(1), q.size(3), v.size(3), q.options());
}

// Zero-pads dim 2 (the sequence) of a (B, NH, S, D) or (B, NH, S) tensor to length S + pad.
torch::Tensor pad_sequence(const torch::Tensor& x, int64_t pad) {
  return x.dim() == 4 ? torch::constant_pad_nd(x, {0, 0, 0, pad}) : torch::constant_pad_nd(x, {0, pad});
}

std::tuple<torch::Tensor, mLSTMState> train_with_padding(const mLSTMBackendConfig& config, const torch::Tensor& q,
                                                         const torch::Tensor& k, const torch::Tensor& v,
                                                         const torch::Tensor& igate, const torch::Tensor& fgate,
                                                         const mLSTMState& state) {
  const int64_t S = q.size(2), L = config.chunk_size;
  const int64_t pad = (S + L - 1) / L * L - S;
  auto padded = [pad](const torch::Tensor& x) { return pad == 0 ? x : pad_sequence(x, pad); };
  auto [h, ignored] = run_mlstm_kernel(KernelKind::chunkwise, config, padded(q), padded(k), padded(v),
                                       padded(igate), padded(fgate), start_state(state, q, v), L);
  return {h.narrow(2, 0, S), mLSTMState{}};
}

// wrap_chunkwise__arbitrary_sequence_length: the schedule's calls with the state chained.
std::tuple<torch::Tensor, mLSTMState> inference(const mLSTMBackendConfig& config, const torch::Tensor& q,
                                                const torch::Tensor& k, const torch::Tensor& v,
                                                const torch::Tensor& igate, const torch::Tensor& fgate,
                                                const mLSTMState& state) {
  mLSTMState st = start_state(state, q, v);
  std::vector<torch::Tensor> hs;
  for (const auto& call : inference_schedule(q.size(2), config.chunk_size)) {
    auto part = [&call](const torch::Tensor& x) { return x.narrow(2, call.begin, call.end - call.begin); };
    auto [h, next] = run_mlstm_kernel(call.kind, config, part(q), part(k), part(v), part(igate), part(fgate), st,
                                      call.chunk_size);
    hs.push_back(h);
    st = next;
  }
  return {hs.size() == 1 ? hs[0] : torch::cat(hs, 2), st};
}

}  // namespace

BackendMode backend_mode(const std::string& name) {
  if (name == "train") return BackendMode::train;
  if (name == "train_with_padding") return BackendMode::train_with_padding;
  if (name == "inference") return BackendMode::inference;
  throw ConfigError("mode", "\"" + name + "\" is not one of train, train_with_padding, inference");
}

std::vector<KernelCall> inference_schedule(int64_t S, int64_t chunk_size) {
  TORCH_CHECK(S >= 1 && chunk_size >= 1, "mLSTM backend: need S >= 1 and chunk_size >= 1, got ", S, " and ", chunk_size);
  if (S == 1) return {{KernelKind::step, 0, 1, 1}};
  std::vector<KernelCall> calls;
  int64_t done = 0;
  for (int64_t chunk = chunk_size; chunk >= kMinInferenceChunk && done < S; chunk /= 2) {
    const int64_t length = (S - done) / chunk * chunk;
    if (length == 0) continue;
    calls.push_back({KernelKind::chunkwise, done, done + length, chunk});
    done += length;
  }
  if (done < S) calls.push_back({KernelKind::sequence, done, S, 1});
  return calls;
}

mLSTMBackendConfig mLSTMBackendConfig::from(const xLSTMLargeConfig& config) {
  if (config.chunkwise_kernel.find("siging") != std::string::npos)
    throw ConfigError("chunkwise_kernel", "\"" + config.chunkwise_kernel +
                                              "\" uses a sigmoid input gate, which this library does not implement");
  TORCH_CHECK(config.chunk_size > 0, "mLSTM backend: chunk_size must be positive, got ", config.chunk_size);
  mLSTMBackendConfig out;
  out.mode = backend_mode(config.mode);
  out.chunk_size = config.chunk_size;
  out.return_last_states = config.return_last_states;
  out.eps = config.eps;
  out.parallel_kernel = config.chunkwise_kernel.rfind("parallel--", 0) == 0;
  return out;
}

std::tuple<torch::Tensor, mLSTMState> run_mlstm_kernel(KernelKind kind, const mLSTMBackendConfig& config,
                                                       const torch::Tensor& q, const torch::Tensor& k,
                                                       const torch::Tensor& v, const torch::Tensor& igate,
                                                       const torch::Tensor& fgate, const mLSTMState& state,
                                                       int64_t chunk_size) {
  // On CUDA the custom ops (kernels/mlstm/) compute the same function for every kind.
  if (auto out = ops::mlstm_on_device(q, k, v, igate, fgate, state, chunk_size, config.eps, kind == KernelKind::step))
    return *out;
  switch (kind) {
    case KernelKind::chunkwise:
      if (config.parallel_kernel) return mlstm_parallel(q, k, v, igate, fgate, state, config.eps);
      return mlstm_chunkwise(q, k, v, igate, fgate, state, chunk_size, config.eps);
    case KernelKind::sequence:
      return mlstm_recurrent(q, k, v, igate, fgate, state, config.eps);
    case KernelKind::step: {
      TORCH_CHECK(q.dim() == 4 && q.size(2) == 1, "mLSTM step kernel: expected one token, got q ", q.sizes());
      auto [h, next] = mlstm_step(q.squeeze(2), k.squeeze(2), v.squeeze(2), igate.squeeze(2), fgate.squeeze(2),
                                  state, config.eps);
      return {h.unsqueeze(2), next};
    }
  }
  TORCH_CHECK(false, "mLSTM backend: unknown kernel kind ", static_cast<int>(kind));
}

std::tuple<torch::Tensor, mLSTMState> mlstm_backend(const mLSTMBackendConfig& config, BackendMode mode,
                                                    const torch::Tensor& q, const torch::Tensor& k,
                                                    const torch::Tensor& v, const torch::Tensor& igate,
                                                    const torch::Tensor& fgate, const mLSTMState& state) {
  check_mlstm_inputs(q, k, v, igate, fgate, state);
  switch (mode) {
    case BackendMode::train: {
      auto [h, last] = run_mlstm_kernel(KernelKind::chunkwise, config, q, k, v, igate, fgate, start_state(state, q, v),
                                        config.chunk_size);
      return {h, config.return_last_states ? last : mLSTMState{}};
    }
    case BackendMode::train_with_padding:
      return train_with_padding(config, q, k, v, igate, fgate, state);
    case BackendMode::inference:
      return inference(config, q, k, v, igate, fgate, state);
  }
  TORCH_CHECK(false, "mLSTM backend: unknown mode ", static_cast<int>(mode));
}

}  // namespace xlstm::large
