// Generates token ids with an xLSTM-Large checkpoint, streaming each id as it is produced.
//
//   xlstm_generate_large --checkpoint FOLDER --prompt 0,1234,567
//                        [--max-new-tokens 64] [--do-sample] [--temperature 0.8] [--top-k 50] [--top-p 0.9]
//                        [--repetition-penalty 1.1] [--seed 0] [--stop 2] [--device cpu|cuda]
//                        [--dtype float32|bfloat16]
//
// --checkpoint is a checkpoint folder in either layout: the reference's export (config.yaml +
// model.safetensors or model_k.safetensors) or the Hugging Face hub's (config.json + sharded
// model-0000k-of-0000n.safetensors + model.safetensors.index.json), e.g. a download of NX-AI/xLSTM-7b.
// The prompt is a comma-separated list of token ids (no tokenizer yet); --stop takes such a list too.
// Without --do-sample the choice is greedy. The model is built directly in --dtype on --device.
#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <xlstm/generate.h>
#include <xlstm/large/pretrained.h>

namespace {

const char* const kUsage =
    "usage: xlstm_generate_large --checkpoint FOLDER --prompt ID,ID,... [--max-new-tokens N]\n"
    "       [--do-sample] [--temperature T] [--top-k K] [--top-p P] [--repetition-penalty R] [--seed S]\n"
    "       [--stop ID,...] [--device cpu|cuda] [--dtype float32|bfloat16]\n";

// `text` read as one T (the whole of it), else std::invalid_argument naming the flag.
template <class T>
T parse_value(const std::string& flag, const std::string& text) {
  std::istringstream in(text);
  T value{};
  in >> value;
  if (text.empty() || in.fail() || !in.eof())
    throw std::invalid_argument(flag + ": '" + text + "' is not a valid value");
  return value;
}

std::vector<int64_t> parse_ids(const std::string& flag, const std::string& text) {
  std::vector<int64_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) ids.push_back(parse_value<int64_t>(flag, item));
  return ids;
}

struct Args {
  std::string checkpoint, device = "cpu", dtype = "float32";
  std::vector<int64_t> prompt;
  xlstm::GenerationConfig gen;
};

Args parse_args(int argc, char** argv) {
  Args a;
  a.gen.max_new_tokens = 64;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (flag == "--do-sample") {
      a.gen.do_sample = true;
      continue;
    }
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--checkpoint") a.checkpoint = value;
    else if (flag == "--prompt") a.prompt = parse_ids(flag, value);
    else if (flag == "--stop") a.gen.stop_tokens = parse_ids(flag, value);
    else if (flag == "--device") a.device = value;
    else if (flag == "--dtype") a.dtype = value;
    else if (flag == "--max-new-tokens") a.gen.max_new_tokens = parse_value<int64_t>(flag, value);
    else if (flag == "--temperature") a.gen.temperature = parse_value<double>(flag, value);
    else if (flag == "--top-k") a.gen.top_k = parse_value<int64_t>(flag, value);
    else if (flag == "--top-p") a.gen.top_p = parse_value<double>(flag, value);
    else if (flag == "--repetition-penalty") a.gen.repetition_penalty = parse_value<double>(flag, value);
    else if (flag == "--seed") a.gen.seed = parse_value<uint64_t>(flag, value);
    else throw std::invalid_argument("unknown flag " + flag);
  }
  if (a.checkpoint.empty() || a.prompt.empty()) throw std::invalid_argument("--checkpoint and --prompt are required");
  if (a.device != "cpu" && a.device != "cuda") throw std::invalid_argument("--device must be cpu or cuda");
  if (a.dtype != "float32" && a.dtype != "bfloat16") throw std::invalid_argument("--dtype must be float32 or bfloat16");
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  try {
    args = parse_args(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::cerr << "xlstm_generate_large: " << e.what() << "\n" << kUsage;
    return 2;
  }
  try {
    if (args.device == "cuda" && !torch::cuda::is_available()) throw std::runtime_error("no CUDA device is available");
    const auto dtype = args.dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
    auto model = xlstm::large::load_pretrained_large(args.checkpoint, {torch::Device(args.device), dtype}).model;

    const auto t0 = std::chrono::steady_clock::now();
    int64_t count = 0;
    xlstm::generate(model, {args.prompt}, args.gen, [&](int64_t, int64_t token) {
      std::cout << (count++ ? " " : "") << token << std::flush;
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "\n";
    std::cerr << count << " tokens in " << s << " s (prefill of " << args.prompt.size() << " included)\n";
    return 0;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    if (const auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
    std::cerr << "xlstm_generate_large: " << msg << "\n";
    return 1;
  }
}
