// The mLSTM backend modes of xLSTM-Large (train, train_with_padding, inference) against each other and
// a plain recurrence, for any S (1, odd, chunk multiples and not); prefill + steps against one forward;
// padding masks; initial states in every mode.
#include "large_testing.h"
#include "testing.h"
#include "xlstm/large/backend.h"
#include "xlstm/large/model.h"
#include "xlstm/mlstm/backends.h"

namespace xlstm {
namespace {

using large::BackendMode;

constexpr double kTol = 1e-5;

struct CellInputs {
  torch::Tensor q, k, v, i, f;
};

CellInputs cell_inputs(int64_t B, int64_t NH, int64_t S, int64_t DK, int64_t DV, uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::randn({B, NH, S, DK}), torch::randn({B, NH, S, DK}), torch::randn({B, NH, S, DV}),
          torch::randn({B, NH, S}) * 3, torch::randn({B, NH, S}) * 3 + 2};
}

large::mLSTMBackendConfig backend_config(int64_t chunk_size) {
  large::mLSTMBackendConfig c;
  c.chunk_size = chunk_size;
  c.return_last_states = true;
  return c;
}

// The reference recurrence from m = 0, one token at a time.
std::tuple<torch::Tensor, mLSTMState> recurrence(const CellInputs& x, const mLSTMState& state) {
  const auto start = state.defined() ? state : mlstm_zero_state(x.q.size(0), x.q.size(1), x.q.size(3), x.v.size(3), x.q.options());
  return mlstm_recurrent(x.q, x.k, x.v, x.i, x.f, start);
}

TEST(LargeBackend, EveryModeMatchesTheRecurrenceForAnyLength) {
  for (int64_t chunk : {64, 16, 8}) {
    for (int64_t S : {1, 2, 7, 16, 17, 33, 64, 75, 150}) {
      SCOPED_TRACE("chunk " + std::to_string(chunk) + ", S " + std::to_string(S));
      const auto x = cell_inputs(2, 2, S, 8, 12, 100 + S);
      const auto [h_ref, s_ref] = recurrence(x, {});
      const auto cfg = backend_config(chunk);
      for (auto mode : {BackendMode::train, BackendMode::train_with_padding, BackendMode::inference}) {
        auto [h, state] = large::mlstm_backend(cfg, mode, x.q, x.k, x.v, x.i, x.f);
        XLSTM_EXPECT_CLOSE(h, h_ref, kTol);
        if (mode == BackendMode::train_with_padding) {
          EXPECT_FALSE(state.defined());
          continue;
        }
        XLSTM_EXPECT_CLOSE(state.C, s_ref.C, kTol);
        XLSTM_EXPECT_CLOSE(state.n, s_ref.n, kTol);
        XLSTM_EXPECT_CLOSE(state.m, s_ref.m, kTol);
      }
    }
  }
}

TEST(LargeBackend, InferenceSchedule) {
  using large::KernelKind;
  auto calls = [](int64_t S, int64_t chunk) {
    std::vector<std::tuple<KernelKind, int64_t, int64_t, int64_t>> out;
    for (const auto& c : large::inference_schedule(S, chunk)) out.emplace_back(c.kind, c.begin, c.end, c.chunk_size);
    return out;
  };
  using C = std::vector<std::tuple<KernelKind, int64_t, int64_t, int64_t>>;
  EXPECT_EQ(calls(150, 64), (C{{KernelKind::chunkwise, 0, 128, 64}, {KernelKind::chunkwise, 128, 144, 16},
                               {KernelKind::sequence, 144, 150, 1}}));
  EXPECT_EQ(calls(1, 64), (C{{KernelKind::step, 0, 1, 1}}));
  EXPECT_EQ(calls(15, 64), (C{{KernelKind::sequence, 0, 15, 1}}));
  EXPECT_EQ(calls(128, 64), (C{{KernelKind::chunkwise, 0, 128, 64}}));
  EXPECT_EQ(calls(96, 64), (C{{KernelKind::chunkwise, 0, 64, 64}, {KernelKind::chunkwise, 64, 96, 32}}));
  EXPECT_EQ(calls(40, 8), (C{{KernelKind::sequence, 0, 40, 1}}));  // chunks below 16 are not used
  EXPECT_EQ(calls(50, 48), (C{{KernelKind::chunkwise, 0, 48, 48}, {KernelKind::sequence, 48, 50, 1}}));
}

TEST(LargeBackend, InitialStatesInEveryMode) {
  const auto first = cell_inputs(1, 2, 13, 8, 4, 1);
  const auto second = cell_inputs(1, 2, 22, 8, 4, 2);
  const auto [ignored, s0] = recurrence(first, {});
  const auto [h_ref, s_ref] = recurrence(second, s0);
  const auto cfg = backend_config(8);
  for (auto mode : {BackendMode::train, BackendMode::train_with_padding, BackendMode::inference}) {
    auto [h, state] = large::mlstm_backend(cfg, mode, second.q, second.k, second.v, second.i, second.f, s0);
    XLSTM_EXPECT_CLOSE(h, h_ref, kTol);
    if (state.defined()) XLSTM_EXPECT_CLOSE(state.C, s_ref.C, kTol);
  }
}

TEST(LargeBackend, TrainWithoutReturnedStatesDoesNotCrash) {
  auto cfg = backend_config(16);
  cfg.return_last_states = false;
  const auto x = cell_inputs(2, 2, 40, 8, 8, 3);
  auto [h, state] = large::mlstm_backend(cfg, BackendMode::train, x.q, x.k, x.v, x.i, x.f);
  EXPECT_EQ(h.sizes(), torch::IntArrayRef({2, 2, 40, 8}));
  EXPECT_FALSE(state.defined());

  // And at model level: logits, an empty state.
  auto model_cfg = testing::small_large_config("train");
  model_cfg.return_last_states = false;
  auto model = testing::seeded_large_model(model_cfg, 4);
  torch::NoGradGuard no_grad;
  auto [logits, model_state] = model->forward(testing::random_ids(2, 13, model_cfg.vocab_size, 5));
  EXPECT_EQ(logits.sizes(), torch::IntArrayRef({2, 13, model_cfg.vocab_size}));
  EXPECT_TRUE(model_state.empty());
}

TEST(LargeBackend, StatesStayFp32ForBf16Inputs) {
  const auto x = cell_inputs(1, 2, 19, 8, 8, 6);
  auto bf = [](const torch::Tensor& t) { return t.to(torch::kBFloat16); };
  for (auto mode : {BackendMode::train, BackendMode::inference}) {
    auto [h, state] = large::mlstm_backend(backend_config(8), mode, bf(x.q), bf(x.k), bf(x.v), bf(x.i), bf(x.f));
    EXPECT_EQ(h.scalar_type(), torch::kBFloat16);
    EXPECT_EQ(state.C.scalar_type(), torch::kFloat32);
    EXPECT_EQ(state.n.scalar_type(), torch::kFloat32);
    EXPECT_EQ(state.m.scalar_type(), torch::kFloat32);
  }
}

TEST(LargeBackend, ParallelKernelNamesAndSigingRejected) {
  auto cfg = testing::small_large_config("train");
  cfg.chunkwise_kernel = "parallel--native_autograd";
  cfg.return_last_states = false;
  const auto backend = large::mLSTMBackendConfig::from(cfg);
  EXPECT_TRUE(backend.parallel_kernel);
  const auto x = cell_inputs(1, 2, 21, 8, 8, 7);
  XLSTM_EXPECT_CLOSE(std::get<0>(large::mlstm_backend(backend, BackendMode::train, x.q, x.k, x.v, x.i, x.f)),
                     std::get<0>(recurrence(x, {})), kTol);

  cfg.chunkwise_kernel = "chunkwise--triton_xl_chunk_siging";
  try {
    large::xLSTMLarge model(cfg);
    FAIL() << "a sigmoid-input-gate kernel was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "chunkwise_kernel");
  }
}

// The three modes of the whole model agree on logits for any S, and train / inference on the states.
TEST(LargeBackend, ModelModesAgreeForAnyLength) {
  const auto base = testing::small_large_config("inference", 8);
  for (int64_t S : {1, 3, 8, 13, 16, 29}) {
    SCOPED_TRACE("S " + std::to_string(S));
    const auto ids = testing::random_ids(2, S, base.vocab_size, 200 + S);
    torch::NoGradGuard no_grad;
    auto reference_model = testing::seeded_large_model(base, 9);
    const auto [logits, state] = reference_model->forward(ids);
    for (const char* mode : {"train", "train_with_padding"}) {
      auto model = testing::seeded_large_model(testing::small_large_config(mode, 8), 9);
      auto [l, s] = model->forward(ids);
      XLSTM_EXPECT_CLOSE(l, logits, kTol);
      EXPECT_EQ(s.empty(), std::string(mode) == "train_with_padding");
      for (std::size_t b = 0; b < s.size(); ++b) XLSTM_EXPECT_CLOSE(s[b].C, state[b].C, kTol);
    }
  }
}

// Prefill of k tokens (inference: chunks + recurrent tail) then single steps equals one forward.
TEST(LargeBackend, PrefillThenStepsEqualsOneForward) {
  const auto cfg = testing::small_large_config("inference", 16);
  auto model = testing::seeded_large_model(cfg, 10);
  const int64_t S = 45;  // not a multiple of 16 or 8
  const auto ids = testing::random_ids(2, S, cfg.vocab_size, 11);
  torch::NoGradGuard no_grad;
  const auto [full, full_state] = model->forward(ids);
  for (int64_t k : {1, 5, 19, 37}) {
    SCOPED_TRACE("prefill " + std::to_string(k));
    auto [logits, state] = model->forward(ids.narrow(1, 0, k));
    std::vector<torch::Tensor> outs{logits};
    for (int64_t t = k; t < S; ++t) {
      auto [y, next] = model->step(ids.narrow(1, t, 1), state);
      outs.push_back(y);
      state = next;
    }
    XLSTM_EXPECT_CLOSE(torch::cat(outs, 1), full, kTol);
    for (std::size_t b = 0; b < state.size(); ++b) {
      XLSTM_EXPECT_CLOSE(state[b].C, full_state[b].C, kTol);
      XLSTM_EXPECT_CLOSE(state[b].n, full_state[b].n, kTol);
      XLSTM_EXPECT_CLOSE(state[b].m, full_state[b].m, kTol);
    }
  }
  // Segments of arbitrary lengths carried through the state, in train mode too.
  auto train = testing::seeded_large_model(testing::small_large_config("train", 16), 10);
  auto [a, sa] = train->forward(ids.narrow(1, 0, 23));
  auto [b, sb] = train->forward(ids.narrow(1, 23, S - 23), sa);
  XLSTM_EXPECT_CLOSE(torch::cat({a, b}, 1), full, kTol);
}

// A padding mask leaves the state unchanged at masked positions: a left-padded sequence gets the
// logits and state it gets alone; padding in the middle is skipped.
TEST(LargeBackend, MaskedPositionsLeaveTheStateUnchanged) {
  const auto cfg = testing::small_large_config("inference", 8);
  auto model = testing::seeded_large_model(cfg, 12);
  const auto ids = testing::random_ids(1, 11, cfg.vocab_size, 13);
  torch::NoGradGuard no_grad;
  const auto [alone, alone_state] = model->forward(ids);

  for (int64_t pad : {1, 8, 21}) {  // within a chunk, a whole chunk, several chunks
    SCOPED_TRACE("pad " + std::to_string(pad));
    const auto padded = torch::cat({torch::full({1, pad}, 7, torch::kLong), ids}, 1);
    auto mask = torch::ones({1, pad + 11}, torch::kBool);
    mask.narrow(1, 0, pad).fill_(false);
    large::ForwardOptions options;
    options.mask = mask;
    for (const char* mode : {"inference", "train"}) {
      auto m = testing::seeded_large_model(testing::small_large_config(mode, 8), 12);
      auto [logits, state] = m->forward(padded, {}, options);
      XLSTM_EXPECT_CLOSE(logits.narrow(1, pad, 11), alone, kTol);
      for (std::size_t b = 0; b < state.size(); ++b) XLSTM_EXPECT_CLOSE(state[b].C, alone_state[b].C, kTol);
    }
  }

  // Masked steps: the state stays bit-identical.
  large::ForwardOptions frozen;
  frozen.mode = BackendMode::inference;
  frozen.mask = torch::zeros({1, 1}, torch::kBool);
  auto [ignored, after] = model->forward(ids.narrow(1, 0, 1), alone_state, frozen);
  for (std::size_t b = 0; b < after.size(); ++b) {
    EXPECT_TRUE(torch::equal(after[b].C, alone_state[b].C));
    EXPECT_TRUE(torch::equal(after[b].n, alone_state[b].n));
    EXPECT_TRUE(torch::equal(after[b].m, alone_state[b].m));
  }

  // A masked run in the middle of a sequence is skipped.
  const auto with_gap = torch::cat({ids.narrow(1, 0, 4), torch::full({1, 5}, 3, torch::kLong), ids.narrow(1, 4, 7)}, 1);
  auto gap_mask = torch::ones({1, 16}, torch::kBool);
  gap_mask.narrow(1, 4, 5).fill_(false);
  large::ForwardOptions gap;
  gap.mask = gap_mask;
  auto [gap_logits, gap_state] = model->forward(with_gap, {}, gap);
  XLSTM_EXPECT_CLOSE(torch::cat({gap_logits.narrow(1, 0, 4), gap_logits.narrow(1, 9, 7)}, 1), alone, kTol);
}

}  // namespace
}  // namespace xlstm
