// `xlstm generate`: text from a checkpoint of `xlstm train` (xlstm/lm_generate.h), streamed to stdout.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "cli/command.h"
#include "cli/lm_checkpoint.h"
#include "xlstm/lm_generate.h"

namespace xlstm::cli {
namespace {

// Streams the text of a growing token sequence: what is printed is never taken back, so a character
// whose bytes are split over tokens is held until it is complete (a trailing U+FFFD of the decoded
// text is not printed yet).
class TextStream {
 public:
  explicit TextStream(const tokenizer::Tokenizer& tok) : tok_(tok) {}

  // The text to print after `token` is added.
  std::string add(int64_t token) {
    ids_.push_back(token);
    const std::string text = tok_.decode(ids_);
    size_t stable = text.size();
    static const std::string kReplacement = "\xEF\xBF\xBD";
    while (stable >= kReplacement.size() && text.compare(stable - kReplacement.size(), kReplacement.size(), kReplacement) == 0)
      stable -= kReplacement.size();
    return take(text, stable);
  }
  // The rest, once the sequence is complete.
  std::string finish() {
    const std::string text = tok_.decode(ids_);
    return take(text, text.size());
  }

 private:
  std::string take(const std::string& text, size_t end) {
    if (end <= printed_) return "";
    std::string out = text.substr(printed_, end - printed_);
    printed_ = end;
    return out;
  }

  const tokenizer::Tokenizer& tok_;
  std::vector<int64_t> ids_;
  size_t printed_ = 0;
};

std::vector<std::string> read_prompts(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read the prompts file");
  std::vector<std::string> prompts;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) prompts.push_back(line);
  if (prompts.empty()) throw std::runtime_error(path + ": no prompts (one per line; empty lines are skipped)");
  return prompts;
}

GenerationConfig generation_config(const Args& args, int64_t tokenizer_vocab) {
  GenerationConfig g;
  g.max_new_tokens = args.get_int("max-new-tokens", 100);
  if (g.max_new_tokens < 0) throw UsageError("--max-new-tokens must not be negative");
  const double temperature = args.get_double("temperature", 1.0);
  if (!(temperature >= 0) || !std::isfinite(temperature))
    throw UsageError("--temperature: " + args.get("temperature") + " must be 0 (greedy) or a positive number");
  g.do_sample = temperature > 0;
  if (g.do_sample) g.temperature = temperature;
  g.top_k = args.get_int("top-k", 0);
  if (g.top_k < 0) throw UsageError("--top-k: " + args.get("top-k") + " must be 0 (off) or positive");
  g.top_p = args.get_double("top-p", 1.0);
  if (!(g.top_p > 0 && g.top_p <= 1)) throw UsageError("--top-p: " + args.get("top-p") + " is not in (0, 1]");
  g.repetition_penalty = args.get_double("repetition-penalty", 1.0);
  if (!(g.repetition_penalty > 0) || !std::isfinite(g.repetition_penalty))
    throw UsageError("--repetition-penalty: " + args.get("repetition-penalty") + " must be a positive number");
  if (args.has("seed")) {
    const int64_t seed = args.get_int("seed", 0);
    if (seed < 0) throw UsageError("--seed must not be negative");
    g.seed = static_cast<uint64_t>(seed);
  }
  g.vocab_limit = tokenizer_vocab;  // never the padding ids beyond the tokenizer's vocabulary
  return g;
}

torch::Device generation_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name != "cuda") throw UsageError("--device: '" + name + "' is not cpu or cuda");
  if (!torch::cuda::is_available()) throw std::runtime_error("--device cuda: no CUDA device is available");
  return torch::kCUDA;
}

int run_generate(const Args& args) {
  args.require_one_of("prompt", "batch");
  const torch::Device device = generation_device(args.get_or("device", "cpu"));
  LMCheckpoint ckpt = load_lm_checkpoint(args.get("checkpoint"), args.get_or("tokenizer", ""));
  const tokenizer::Tokenizer& tok = *ckpt.tokenizer;
  const GenerationConfig config = generation_config(args, tok.vocab_size());
  const std::vector<std::string> texts = args.has("prompt") ? std::vector<std::string>{args.get("prompt")}
                                                            : read_prompts(args.get("batch"));
  std::vector<std::vector<int64_t>> prompts;
  for (size_t i = 0; i < texts.size(); ++i) {
    prompts.push_back(tok.encode(texts[i], /*add_special_tokens=*/false));
    if (prompts.back().empty()) throw std::runtime_error("prompt " + std::to_string(i + 1) + " has no tokens");
  }
  ckpt.model->to(device);

  const bool streaming = prompts.size() == 1;
  TextStream stream(tok);
  if (streaming) std::fputs(texts[0].c_str(), stdout);
  const auto start = std::chrono::steady_clock::now();
  const auto on_token = [&](int64_t, int64_t token) {
    if (!streaming) return;
    std::fputs(stream.add(token).c_str(), stdout);
    std::fflush(stdout);
  };
  const LMGenerationResult result = generate(ckpt.model, prompts, config, on_token);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  int64_t generated = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    generated += static_cast<int64_t>(result.tokens[i].size());
    if (streaming) {
      std::printf("%s\n", stream.finish().c_str());
    } else {
      std::printf("=== prompt %zu ===\n%s%s\n\n", i + 1, texts[i].c_str(), tok.decode(result.tokens[i]).c_str());
    }
  }
  std::fflush(stdout);
  std::fprintf(stderr, "[%lld tokens in %.2f s, %.1f tokens/s, %s, %s]\n", static_cast<long long>(generated), seconds,
               seconds > 0 ? static_cast<double>(generated) / seconds : 0.0,
               config.do_sample ? "sampled" : "greedy", device.str().c_str());
  return 0;
}

}  // namespace

Command generate_command() {
  return {"generate", "generate text from a checkpoint of xlstm train",
          "usage: xlstm generate --checkpoint DIR (--prompt TEXT | --batch FILE) [--max-new-tokens N]\n"
          "                      [--temperature T] [--top-k K] [--top-p P] [--repetition-penalty R]\n"
          "                      [--seed S] [--device cpu|cuda] [--tokenizer PATH]\n"
          "\n"
          "Loads the model, its config and its tokenizer from a checkpoint of `xlstm train`, prefills the\n"
          "prompt and generates token by token through the model's step function. One prompt: its text\n"
          "and then the generated text are streamed to stdout as the tokens are produced. --batch: the\n"
          "prompts are generated together and each one's text is printed at the end, one block per prompt.\n"
          "Timing goes to stderr. Ids beyond the tokenizer's vocabulary (the padding of a model vocabulary)\n"
          "are never generated.\n"
          "\n"
          "  --checkpoint DIR          a run folder of xlstm train, or its checkpoint/ folder\n"
          "  --prompt TEXT             the text to continue\n"
          "  --batch FILE              prompts, one per line (empty lines skipped)\n"
          "  --max-new-tokens N        tokens to generate per prompt (default 100)\n"
          "  --temperature T           0: greedy (argmax; top-k and top-p do not apply); > 0: sampling with\n"
          "                            logits / T (default 1)\n"
          "  --top-k K                 sample among the K most likely tokens (default 0: all)\n"
          "  --top-p P                 sample among the most likely tokens of mass P, in (0, 1] (default 1)\n"
          "  --repetition-penalty R    > 0; 1 is off (default 1)\n"
          "  --seed S                  seed of the sampling (same seed, same text); default: unseeded\n"
          "  --device cpu|cuda         where the model runs (default cpu)\n"
          "  --tokenizer PATH          instead of the tokenizer named in the checkpoint's config\n",
          {{"checkpoint"}, {"prompt"}, {"batch"}, {"max-new-tokens"}, {"temperature"}, {"top-k"}, {"top-p"},
           {"repetition-penalty"}, {"seed"}, {"device"}, {"tokenizer"}},
          run_generate};
}

}  // namespace xlstm::cli
