// The training loop: batches by step, schedule, train_step, interval metrics, validation, checkpoints.
#include "xlstm/train/trainer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "resume_state.h"
#include "xlstm/io/checkpoint.h"
#include "xlstm/train/lr_schedule.h"
#include "xlstm/train/metrics_log.h"
#include "xlstm/train/optimizer.h"
#include "xlstm/train/progress.h"
#include "xlstm/train/step.h"

namespace xlstm::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// mkdir -p.
void make_directories(const std::string& path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string prefix = path.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST)
      throw std::runtime_error(prefix + ": cannot create the output folder: " + std::strerror(errno));
    if (slash == std::string::npos) return;
  }
}

// "line 3: `a: 1` here, `a: 2` in the checkpoint" for the first line where two texts differ.
std::string first_difference(const std::string& ours, const std::string& theirs) {
  std::istringstream a(ours), b(theirs);
  std::string x, y;
  for (int line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(a, x)), more_b = static_cast<bool>(std::getline(b, y));
    if (!more_a && !more_b) return "no difference";
    if (!more_a || !more_b || x != y)
      return "line " + std::to_string(line) + ": `" + (more_a ? x : "(end)") + "` here, `" + (more_b ? y : "(end)") +
             "` in the checkpoint";
  }
}

// The device of a data-parallel rank (the context's), after checking that it is the configured kind
// and that every global batch has an example for each rank.
torch::Device data_parallel_device(const DistributedContext& context, const torch::Device& configured,
                                   const TrainingConfig& c, const data::SequenceDataset& train) {
  if (configured.type() != context.device().type())
    throw DistributedError("training.device \"" + c.device + "\" is not the device of the process group (" +
                           context.backend() + " on " + context.device().str() + ")");
  const int64_t n = train.size();
  const int64_t smallest = n <= c.batch_size ? n : (n % c.batch_size ? n % c.batch_size : c.batch_size);
  if (smallest < context.world_size())
    throw DistributedError("training.batch_size " + std::to_string(c.batch_size) + " over " + std::to_string(n) +
                           " train examples gives a batch of " + std::to_string(smallest) + ", fewer than the " +
                           std::to_string(context.world_size()) + " ranks (WORLD_SIZE)");
  return context.device();
}

std::optional<torch::ScalarType> amp_dtype(const TrainingConfig& c) {
  if (!c.enable_mixed_precision || c.amp_precision == "float32") return std::nullopt;
  return torch::kBFloat16;
}

}  // namespace

torch::Device resolve_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda" || name == "auto") {
    if (torch::cuda::is_available()) return torch::kCUDA;
    if (name == "auto") return torch::kCPU;
    throw std::runtime_error("training.device: \"cuda\" but no CUDA device is available (use --set training.device=cpu or auto)");
  }
  throw std::runtime_error("training.device: \"" + name + "\" is not one of cuda, cpu, auto");
}

struct Trainer::State {
  TrainingConfig config;
  TrainableModel model;
  std::shared_ptr<const data::SequenceDataset> train;
  std::vector<data::NamedDataset> validation, test;
  RunOptions options;
  std::ostream& out;
  torch::Device device;
  std::optional<torch::ScalarType> amp;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  LinearWarmupCosineAnnealing schedule;
  std::unique_ptr<GradientReducer> reducer;  // data parallel only

  bool is_main() const { return !options.distributed || options.distributed->is_main(); }

  std::string file(const std::string& name) const { return options.output_dir + "/" + name; }

  std::vector<SplitResult> evaluate_all(const std::vector<data::NamedDataset>& splits, int64_t step, MetricsLog* log,
                                        ProgressLine& progress) {
    std::vector<SplitResult> results;
    if (!is_main()) return results;
    progress.clear();
    for (const auto& split : splits) {
      results.push_back(evaluate(model, split, config.batch_size, device, amp, config.trim_padding));
      const SplitResult& r = results.back();
      if (log)
        log->write(step, r.name,
                   {{"loss", r.loss}, {"perplexity", r.perplexity()}, {"accuracy", r.accuracy},
                    {"rescaled_accuracy", r.rescaled_accuracy()}});
      char line[256];
      std::snprintf(line, sizeof line, "step %lld %s: loss %.4f | perplexity %.2f | accuracy %.4f | rescaled %.4f\n",
                    static_cast<long long>(step), r.name.c_str(), r.loss, r.perplexity(), r.accuracy,
                    r.rescaled_accuracy());
      out << line << std::flush;
    }
    return results;
  }
};

Trainer::Trainer(TrainingConfig config, TrainableModel model, std::shared_ptr<const data::SequenceDataset> train,
                 std::vector<data::NamedDataset> validation, std::vector<data::NamedDataset> test, RunOptions options,
                 std::ostream& out)
    : s_(new State{std::move(config), std::move(model), std::move(train), std::move(validation), std::move(test),
                   std::move(options), out, resolve_device("cpu"), std::nullopt, nullptr, {}, nullptr}) {
  State& s = *s_;
  s.config.validate("training");
  if (s.options.distributed && s.options.time_limit_seconds > 0)
    throw std::invalid_argument("a time limit is not supported with data-parallel training (the ranks would stop at "
                                "different steps); stop after a number of steps instead");
  s.device = resolve_device(s.config.device);
  if (s.options.distributed) s.device = data_parallel_device(*s.options.distributed, s.device, s.config, *s.train);
  s.amp = amp_dtype(s.config);
  s.model.module->to(s.device);
  if (s.config.weight_precision == "bfloat16") s.model.module->to(torch::kBFloat16);
  s.optimizer = make_adamw(*s.model.module, s.config, s.model.weight_decay_on_embedding);
  s.schedule = {s.config.lr_warmup_steps, s.config.decay_until(), s.config.lr, s.config.lr * s.config.lr_decay_factor};
  if (s.options.distributed) {
    s.options.distributed->broadcast_from_main(*s.model.module);
    s.reducer = std::make_unique<GradientReducer>(s.options.distributed, s.model.module->named_parameters().pairs(),
                                                  s.options.gradient_reducer);
  }
}

Trainer::~Trainer() = default;

torch::optim::Optimizer& Trainer::optimizer() { return *s_->optimizer; }
const torch::Device& Trainer::device() const { return s_->device; }

TrainResult Trainer::run() {
  State& s = *s_;
  const TrainingConfig& c = s.config;
  const bool files = !s.options.output_dir.empty();
  const bool writes = files && s.is_main();  // every rank reads a checkpoint to resume, rank 0 writes
  const std::string checkpoint_dir = files ? s.file("checkpoint") : "";
  TrainResult result;
  ResumeState resumed;
  IntervalSums& sums = resumed.sums;

  if (files) {
    if (!s.options.resume && exists(s.file("metrics.jsonl")))
      throw std::runtime_error(s.options.output_dir +
                               " holds an earlier run (metrics.jsonl): resume it or choose another output folder");
    if (writes) make_directories(s.options.output_dir);
    if (s.options.resume && exists(checkpoint_dir)) {
      const io::TrainingState state = io::load_training_checkpoint(checkpoint_dir, *s.model.module, *s.optimizer);
      if (state.config_yaml != s.options.config_yaml)
        throw CheckpointError(checkpoint_dir + " was written for another config (" +
                                  first_difference(s.options.config_yaml, state.config_yaml) + ")");
      move_optimizer_state(*s.optimizer, s.device);
      resumed = restore_from_metadata(state.metadata, s.device, checkpoint_dir);
      result.resumed_from = state.step;
    }
  }
  // Every rank has checked and read output_dir before rank 0 writes to it.
  if (s.options.distributed) s.options.distributed->barrier();
  std::unique_ptr<MetricsLog> log = writes ? std::make_unique<MetricsLog>(s.file("metrics.jsonl"), result.resumed_from) : nullptr;
  const auto start = Clock::now();
  // Wall time of the whole run: the earlier parts' (from the checkpoint) and this process's.
  const auto elapsed = [&] { return resumed.elapsed_seconds + seconds_since(start); };
  const auto save = [&](int64_t step) {
    if (!writes) return;
    ResumeState now = resumed;
    now.elapsed_seconds = elapsed();
    io::save_training_checkpoint(checkpoint_dir, *s.model.module, *s.optimizer, step, s.options.config_yaml,
                                 resume_metadata(now, s.device));
  };

  ProgressLine progress(std::cerr, s.is_main() && s.options.progress && ::isatty(STDERR_FILENO));
  const int64_t examples = s.train->size();
  const int64_t batches_per_pass = (examples + c.batch_size - 1) / c.batch_size;
  auto interval_start = start;
  bool first_interval = true, evaluated_last = false;
  ProgressState shown{result.resumed_from, c.num_steps};

  for (int64_t step = result.resumed_from; step < c.num_steps; ++step) {
    const auto step_start = Clock::now();
    const int64_t first = (step % batches_per_pass) * c.batch_size;
    const int64_t count = std::min(c.batch_size, examples - first);
    const Shard shard = s.options.distributed ? shard_of(first, count, s.options.distributed->rank(),
                                                         s.options.distributed->world_size())
                                              : Shard{first, count};
    data::Batch cpu = data::make_batch(*s.train, shard.first, shard.count);
    if (c.trim_padding) cpu = data::trim_to_last_target(cpu, s.train->ignore_index());
    const data::Batch batch{cpu.inputs.to(s.device), cpu.targets.to(s.device)};
    StepOptions options{s.schedule.lr_at(step), c.gradient_clip_norm, s.amp, s.train->ignore_index(), s.reducer.get()};
    const StepStats stats = train_step(s.model, *s.optimizer, batch, options);
    result.train_seconds += seconds_since(step_start);
    result.train_tokens += count * batch.inputs.size(1);
    sums.loss += stats.loss;
    sums.correct += stats.correct;
    sums.count += stats.count;
    sums.steps += 1;
    sums.tokens += stats.tokens;
    const int64_t done = step + 1;

    const double interval_seconds = seconds_since(interval_start);
    shown = {done, c.num_steps, sums.loss / static_cast<double>(sums.steps),
             static_cast<double>(sums.correct) / static_cast<double>(std::max<int64_t>(sums.count, 1)), options.lr,
             static_cast<double>(sums.tokens) / std::max(interval_seconds, 1e-9),
             seconds_since(start) / static_cast<double>(done - result.resumed_from) * static_cast<double>(c.num_steps - done)};
    progress.update(shown);
    if (done % c.log_every_step == 0 || done == c.num_steps) {
      if (log)
        log->write(done, "train",
                   {{"loss", shown.loss}, {"accuracy", shown.accuracy}, {"lr", options.lr}, {"grad_norm", stats.grad_norm},
                    {"tokens_per_s", shown.tokens_per_second}, {"elapsed_s", elapsed()}});
      if (!progress.interactive() && s.is_main()) progress.print(shown);
      if (first_interval) result.first_loss = shown.loss, first_interval = false;
      result.last_loss = shown.loss;
      sums = {};
      interval_start = Clock::now();
    }
    // Validation and checkpoints do not count towards the interval's tokens per second.
    const auto pause_start = Clock::now();
    evaluated_last = c.val_every_step > 0 && done % c.val_every_step == 0;
    if (evaluated_last) result.final_results = s.evaluate_all(s.validation, done, log.get(), progress);
    if (c.checkpoint_every_step > 0 && done % c.checkpoint_every_step == 0 && done < c.num_steps) save(done);
    interval_start += Clock::now() - pause_start;
    const bool stop = (s.options.stop_after_steps > 0 && done - result.resumed_from >= s.options.stop_after_steps) ||
                      (s.options.time_limit_seconds > 0 && seconds_since(start) >= s.options.time_limit_seconds);
    if (stop && done < c.num_steps) {
      progress.clear();
      save(done);
      result.steps = done;
      result.seconds = elapsed();
      return result;
    }
  }

  if (!evaluated_last) result.final_results = s.evaluate_all(s.validation, c.num_steps, log.get(), progress);
  const auto tests = s.evaluate_all(s.test, c.num_steps, log.get(), progress);
  result.final_results.insert(result.final_results.end(), tests.begin(), tests.end());
  progress.clear();
  save(c.num_steps);
  result.steps = c.num_steps;
  result.seconds = elapsed();
  return result;
}

}  // namespace xlstm::train
