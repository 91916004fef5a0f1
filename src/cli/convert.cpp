// `xlstm convert`: an xLSTM-Large checkpoint folder (reference export or Hugging Face hub layout) to
// either layout, optionally changing the dtype, the weight mode and the shard size.
#include <cstdio>

#include "cli/command.h"
#include "xlstm/io/pretrained.h"
#include "xlstm/io/safetensors.h"
#include "xlstm/large/pretrained.h"
#include "xlstm/large/weight_mode.h"

namespace xlstm::cli {
namespace {

io::FolderLayout parse_layout(const std::string& name) {
  if (name == "reference") return io::FolderLayout::reference;
  if (name == "hugging_face") return io::FolderLayout::hugging_face;
  throw UsageError("--layout: '" + name + "' is not reference or hugging_face");
}

// The dtype to load in: the stored one (that of the first tensor of the first file) for "keep".
torch::Dtype parse_dtype(const std::string& name, const io::CheckpointFiles& files) {
  if (name == "float32") return torch::kFloat32;
  if (name == "bfloat16") return torch::kBFloat16;
  if (name == "float16") return torch::kFloat16;
  if (name != "keep") throw UsageError("--dtype: '" + name + "' is not keep, float32, bfloat16 or float16");
  const io::SafetensorsReader reader(files.shard_files.front());
  const std::vector<std::string> keys = reader.keys();
  if (keys.empty()) throw std::runtime_error(files.shard_files.front() + ": holds no tensors");
  return reader.info(keys.front()).dtype;
}

int run_convert(const Args& args) {
  const std::string from = args.get("from"), to = args.get("to");
  const io::FolderLayout layout = parse_layout(args.get("layout"));
  const std::string weight_mode = args.get_or("weight-mode", "keep");
  if (weight_mode != "keep" && weight_mode != "single" && weight_mode != "fused")
    throw UsageError("--weight-mode: '" + weight_mode + "' is not keep, single or fused");
  const int64_t max_shard = args.get_int("max-shard-bytes", static_cast<int64_t>(io::kDefaultMaxShardBytes));
  if (max_shard < 1) throw UsageError("--max-shard-bytes must be positive");

  const io::CheckpointFiles files = io::find_checkpoint_files(from);
  const torch::Dtype dtype = parse_dtype(args.get_or("dtype", "keep"), files);
  large::Pretrained loaded = large::load_pretrained_large(from, {torch::kCPU, dtype, files.layout});
  if (weight_mode != "keep" && weight_mode != loaded.config.weight_mode) {
    loaded.model = large::convert_weight_mode(loaded.model, weight_mode);
    loaded.config.weight_mode = weight_mode;
  }
  io::save_checkpoint_folder(*loaded.model, loaded.config, to, layout, static_cast<uint64_t>(max_shard));
  std::printf("wrote %s (%s layout, %s, %s weights)\n", to.c_str(),
              layout == io::FolderLayout::reference ? "reference" : "Hugging Face",
              c10::toString(dtype), loaded.config.weight_mode.c_str());
  return 0;
}

}  // namespace

Command convert_command() {
  return {"convert", "convert an xLSTM-Large checkpoint folder between the reference and Hugging Face layouts",
          "usage: xlstm convert --from DIR --to DIR --layout reference|hugging_face\n"
          "                     [--dtype keep|float32|bfloat16|float16] [--weight-mode keep|single|fused]\n"
          "                     [--max-shard-bytes N]\n"
          "\n"
          "Reads an xLSTM-Large checkpoint folder of either layout (the reference's config.yaml +\n"
          "model*.safetensors, or the Hugging Face hub's config.json + sharded safetensors + index), checks\n"
          "it completely, and writes it in the requested layout. TO is replaced only if it is empty or\n"
          "holds a checkpoint folder.\n"
          "\n"
          "  --from DIR             the checkpoint folder to read (layout detected from its config file)\n"
          "  --to DIR               the folder to write\n"
          "  --layout L             reference or hugging_face\n"
          "  --dtype D              dtype of the written weights (default keep: as stored)\n"
          "  --weight-mode M        single or fused weights (default keep: the config's)\n"
          "  --max-shard-bytes N    largest weight file (default 5000000000)\n",
          {{"from"}, {"to"}, {"layout"}, {"dtype"}, {"weight-mode"}, {"max-shard-bytes"}},
          run_convert};
}

}  // namespace xlstm::cli
