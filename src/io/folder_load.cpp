// Loading a checkpoint folder into a module (see pretrained.h): every header, the index and the
// module's names and shapes are checked first; then each weight file is copied tensor by tensor
// through its memory mapping, releasing pages as it goes, and unmapped when done.
#include <memory>

#include "io/load_report.h"
#include "xlstm/io/hub_names.h"
#include "xlstm/io/pretrained.h"

namespace xlstm::io {
namespace {

// Just the file name of a path, as messages show where a tensor lives.
std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

struct Source {
  size_t file = 0;  // index into the readers
  std::string key;  // the tensor's name in that file
};

// One file's share of the copy: (module tensor, name in the file).
using FileCopies = std::vector<std::pair<torch::Tensor, std::string>>;

class FolderLoader {
 public:
  explicit FolderLoader(const CheckpointFiles& files) : files_(files) {
    for (const auto& path : files.shard_files) readers_.push_back(std::make_unique<SafetensorsReader>(path));
    for (size_t i = 0; i < readers_.size(); ++i) collect(i);
    if (!files.index_file.empty()) check_index_entries();
  }

  // Matches the module's tensors with the files' and returns what did not fit; `copies` gets the rest.
  LoadResult match(const torch::nn::Module& module, std::vector<FileCopies>& copies) const {
    copies.assign(readers_.size(), {});
    const auto targets = named_tensors(module);
    LoadResult result;
    for (const auto& [name, target] : targets) {
      auto it = sources_.find(name);
      if (it == sources_.end()) {
        result.missing.push_back(name);
        continue;
      }
      const Source& source = it->second;
      const TensorInfo& info = readers_[source.file]->info(source.key);
      const std::string where = " in " + base_name(readers_[source.file]->path());
      if (c10::IntArrayRef(info.shape) != target.sizes()) {
        result.mismatched.push_back(name + ": checkpoint " + shape_text(info.shape) + where + " vs model " +
                                    shape_text(target.sizes()));
      } else if (c10::isFloatingType(info.dtype) != c10::isFloatingType(target.scalar_type())) {
        result.mismatched.push_back(name + ": checkpoint dtype " + c10::toString(info.dtype) + where +
                                    " vs model dtype " + c10::toString(target.scalar_type()));
      } else {
        copies[source.file].emplace_back(target, source.key);
      }
    }
    for (const auto& [name, source] : sources_)
      if (!targets.count(name))
        result.unexpected.push_back(name + " (" + base_name(readers_[source.file]->path()) +
                                    (name == source.key ? "" : ": " + source.key) + ")");
    return result;
  }

  // Copies file by file; each file's mapping is released as soon as its tensors are in place.
  void copy(std::vector<FileCopies>& copies) {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < readers_.size(); ++i) {
      for (auto& [target, key] : copies[i]) {
        target.copy_(readers_[i]->tensor(key));
        readers_[i]->release_pages(key);
      }
      readers_[i].reset();
    }
  }

 private:
  // Records the tensors of file `i` under module names; with an index, each must be listed there
  // for this file. A module name provided by two files is an error.
  void collect(size_t i) {
    const SafetensorsReader& reader = *readers_[i];
    for (const auto& key : reader.keys()) {
      if (!files_.index_file.empty()) {
        auto listed = files_.weight_map.find(key);
        if (listed == files_.weight_map.end())
          throw CheckpointError(reader.path() + ": holds \"" + key + "\", which " + files_.index_file +
                                " does not list");
        if (listed->second != reader.path())
          throw CheckpointError(reader.path() + ": holds \"" + key + "\", which " + files_.index_file +
                                " lists in " + base_name(listed->second));
      }
      const std::string name =
          files_.layout == FolderLayout::hugging_face ? module_name_from_hub(key) : key;
      auto [it, inserted] = sources_.emplace(name, Source{i, key});
      if (!inserted)
        throw CheckpointError(reader.path() + ": \"" + key + "\" gives the tensor \"" + name + "\" a second time (" +
                              base_name(readers_[it->second.file]->path()) + " has \"" + it->second.key + "\")");
    }
  }

  // Every tensor the index lists must be in the file it names.
  void check_index_entries() const {
    for (const auto& [key, path] : files_.weight_map) {
      for (const auto& reader : readers_)
        if (reader->path() == path && !reader->contains(key))
          throw CheckpointError(files_.index_file + ": lists \"" + key + "\" in " + base_name(path) +
                                ", which does not hold it");
    }
  }

  const CheckpointFiles& files_;
  std::vector<std::unique_ptr<SafetensorsReader>> readers_;
  std::map<std::string, Source> sources_;  // module name -> where it is
};

}  // namespace

LoadResult load_checkpoint_folder(torch::nn::Module& module, const std::string& folder,
                                  const FolderLoadOptions& options) {
  const CheckpointFiles files = find_checkpoint_files(folder, options.layout);
  FolderLoader loader(files);
  std::vector<FileCopies> copies;
  const LoadResult result = loader.match(module, copies);
  if (options.strict && !result.ok())
    throw CheckpointError(files.folder + ": the checkpoint does not fit the model: " + problems_text(result));
  loader.copy(copies);
  return result;
}

}  // namespace xlstm::io
