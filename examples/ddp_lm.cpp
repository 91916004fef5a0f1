// Data-parallel language-model training on synthetic tokens (data/repeated_segments.h), no corpus
// needed: to measure tokens/s on 1 and N GPUs and to compare the loss curves of different world
// sizes. The default model is the 164M xLSTM[7:1]: embedding 768, 24 blocks with sLSTM at 3, 11 and
// 19, context 2048, GPT-2 vocabulary 50304.
//
//   xlstm_ddp_lm --steps 50 --batch 16                    # one process (one GPU, or the CPU)
//   xlstm_ddp_lm --nproc 2 --steps 50 --batch 16          # 2 local processes: nccl on GPUs 0, 1
//   torchrun --nproc-per-node 2 --no-python xlstm_ddp_lm ...   # the same ranks under torchrun
//   xlstm_ddp_lm --config configs/xlstm_lm_readme.yaml --context 64 --batch 8 --device cpu --nproc 2
//
// Options (defaults in brackets):
//   --nproc N        N local processes (xlstm/train/launcher.h); without it one process, or the rank
//                    that RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT (torchrun's variables) say
//   --config FILE    model config (xLSTMLMModelConfig YAML) [the 164M model]
//   --context S      sequence length [the model's context_length]
//   --steps N [50]   --batch B: the global batch, split over the ranks [16]
//   --lr X [6e-4]    --warmup N [10]: linear warm-up steps, then cosine decay to lr/10 at --steps
//   --period P       segment length of the synthetic data [128, at most S]
//   --device D       auto | cuda | cpu [auto]       --precision bf16 | fp32 [bf16: autocast]
//   --bucket-mb M    gradient all-reduce bucket size [25]
//   --no-overlap     all-reduce after the backward pass instead of during it
//   --out DIR        metrics.jsonl and checkpoint/ [runs/ddp_lm]   --resume   --threads N
//
// Rank 0 prints the loss and tokens/s (all ranks' tokens) of every step and, at the end, the median
// tokens/s over the steps after the first 5 (warm-up of kernels and allocator).
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <xlstm/data/repeated_segments.h>
#include <xlstm/train/launcher.h>
#include <xlstm/train/trainer.h>
#include <xlstm/xlstm.h>

namespace {

const char* kModel164M =
    "vocab_size: 50304\ncontext_length: 2048\nnum_blocks: 24\nembedding_dim: 768\nslstm_at: [3, 11, 19]\n"
    "mlstm_block: {mlstm: {conv1d_kernel_size: 4, qkv_proj_blocksize: 4, num_heads: 4}}\n"
    "slstm_block:\n"
    "  slstm: {backend: cuda, num_heads: 4, conv1d_kernel_size: 4, bias_init: powerlaw_blockdependent}\n"
    "  feedforward: {proj_factor: 1.3, act_fn: gelu}\n";

struct Args {
  int nproc = 0, threads = 0;
  std::string config, device = "auto", precision = "bf16", out = "runs/ddp_lm";
  int64_t context = 0, steps = 50, batch = 16, warmup = 10, period = 128;
  double lr = 6e-4, bucket_mb = 25;
  bool overlap = true, resume = false;
};

const char* kUsage =
    "usage: xlstm_ddp_lm [--nproc N] [--config FILE] [--context S] [--steps N] [--batch B] [--lr X] [--warmup N]\n"
    "                    [--period P] [--device auto|cuda|cpu] [--precision bf16|fp32] [--bucket-mb M] [--no-overlap]\n"
    "                    [--out DIR] [--resume] [--threads N]\n";

struct UsageError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

double number(const std::string& flag, const std::string& text, double min) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(v >= min)) throw UsageError(flag + ": " + text + " is not a number >= " + std::to_string(min));
  return v;
}

int64_t integer(const std::string& flag, const std::string& text, int64_t min) {
  const double v = number(flag, text, static_cast<double>(min));
  if (v != static_cast<double>(static_cast<int64_t>(v))) throw UsageError(flag + ": " + text + " is not an integer");
  return static_cast<int64_t>(v);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (flag == "--no-overlap") { a.overlap = false; continue; }
    if (flag == "--resume") { a.resume = true; continue; }
    if (i + 1 >= argc) throw UsageError(flag + " needs a value");
    const std::string v = argv[++i];
    if (flag == "--nproc") a.nproc = static_cast<int>(integer(flag, v, 1));
    else if (flag == "--threads") a.threads = static_cast<int>(integer(flag, v, 1));
    else if (flag == "--config") a.config = v;
    else if (flag == "--context") a.context = integer(flag, v, 2);
    else if (flag == "--steps") a.steps = integer(flag, v, 1);
    else if (flag == "--batch") a.batch = integer(flag, v, 1);
    else if (flag == "--lr") a.lr = number(flag, v, 0);
    else if (flag == "--warmup") a.warmup = integer(flag, v, 0);
    else if (flag == "--period") a.period = integer(flag, v, 1);
    else if (flag == "--device") a.device = v;
    else if (flag == "--precision") a.precision = v;
    else if (flag == "--bucket-mb") a.bucket_mb = number(flag, v, 0);
    else if (flag == "--out") a.out = v;
    else throw UsageError("unknown option " + flag);
  }
  if (a.precision != "bf16" && a.precision != "fp32") throw UsageError("--precision: " + a.precision + " is not bf16 or fp32");
  if (a.warmup > a.steps) throw UsageError("--warmup " + std::to_string(a.warmup) + " is longer than --steps");
  return a;
}

// The median "tokens_per_s" of the train records after step 5 in metrics.jsonl (0 when none).
double median_tokens_per_second(const std::string& metrics) {
  std::ifstream in(metrics);
  std::vector<double> values;
  const std::string key = "\"tokens_per_s\":", step_key = "\"step\":";
  for (std::string line; std::getline(in, line);) {
    const size_t k = line.find(key), s = line.find(step_key);
    if (k == std::string::npos || s == std::string::npos) continue;
    if (std::atoll(line.c_str() + s + step_key.size()) > 5) values.push_back(std::atof(line.c_str() + k + key.size()));
  }
  if (values.empty()) return 0;
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

int run(const Args& a, const std::vector<std::string>& worker_args) {
  const auto env = xlstm::train::distributed_options_from_env();
  if (a.nproc > 0 && !env) return xlstm::train::launch_self(a.nproc, worker_args);
  if (a.threads) torch::set_num_threads(a.threads);

  std::vector<std::string> overrides;
  if (a.context) overrides.push_back("context_length=" + std::to_string(a.context));
  const auto model_config = a.config.empty() ? xlstm::from_yaml<xlstm::xLSTMLMModelConfig>(kModel164M, overrides)
                                             : xlstm::from_yaml_file<xlstm::xLSTMLMModelConfig>(a.config, overrides);
  const int64_t context = model_config.context_length;

  xlstm::train::TrainingConfig t;
  t.batch_size = a.batch;
  t.lr = a.lr;
  t.lr_warmup_steps = a.warmup;
  t.lr_decay_factor = 0.1;
  t.weight_decay = 0.1;
  t.num_steps = a.steps;
  t.val_every_step = 0;
  t.log_every_step = 1;
  t.device = a.device;
  t.enable_mixed_precision = a.precision == "bf16";
  t.gradient_clip_norm = 1.0;

  xlstm::train::RunOptions options;
  options.output_dir = a.out;
  options.resume = a.resume;
  options.progress = false;
  options.config_yaml = xlstm::to_yaml(model_config) + "# training\n" + xlstm::to_yaml(t);
  options.gradient_reducer.bucket_bytes = static_cast<int64_t>(a.bucket_mb * (1 << 20));
  options.gradient_reducer.overlap = a.overlap;
  if (env) options.distributed = xlstm::train::DistributedContext::create(*env, a.device);
  const bool main = !options.distributed || options.distributed->is_main();

  torch::manual_seed(static_cast<uint64_t>(t.seed));
  xlstm::xLSTMLMModel model(model_config);
  model->reset_parameters();
  int64_t parameters = 0;
  for (const auto& p : model->parameters()) parameters += p.numel();
  auto train = std::make_shared<xlstm::data::RepeatedSegmentDataset>(a.steps * a.batch, context, model_config.vocab_size,
                                                                     std::min(a.period, context), 1234);
  xlstm::train::Trainer trainer(t, xlstm::train::trainable(model), train, {}, {}, options);
  if (main)
    std::cout << "model: " << parameters << " parameters, blocks " << model_config._block_map << ", context " << context
              << " | device " << trainer.device() << " | "
              << (options.distributed ? std::to_string(options.distributed->world_size()) + " ranks (" +
                                            options.distributed->backend() + ")"
                                      : std::string("1 process"))
              << " | global batch " << a.batch << " (" << a.batch * context << " tokens/step)"
              << " | all-reduce " << (a.overlap ? "during" : "after") << " backward\n"
              << std::flush;
  const auto result = trainer.run();
  if (main)
    std::cout << "done: " << result.steps << " steps, loss " << result.first_loss << " -> " << result.last_loss
              << ", median tokens/s after step 5: " << static_cast<int64_t>(median_tokens_per_second(a.out + "/metrics.jsonl"))
              << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv), xlstm::train::arguments_without(argc, argv, "--nproc"));
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
