// The `dataset` section of a language-model config (xlstm train, configs/lm_brown*.yaml): the train
// and validation token files written by `xlstm prepare-data`, the tokenizer they were made with (what
// `xlstm generate` decodes with), and the window length and seed of the training windows
// (token_windows.h). Relative paths are relative to the working directory.
//
//   dataset:
//     name: token_files
//     kwargs: {train_file: data/brown/train.bin, validation_file: data/brown/val.bin,
//              tokenizer: ../shared/data/gpt2, vocab_size: 50257, context_length: 256, seed: 0}
#pragma once

#include <cstdint>
#include <string>

#include "xlstm/config.h"

namespace xlstm::data {

struct TokenFilesConfig {
  static constexpr const char* kName = "token_files";  // dataset.name of configs holding this

  std::string train_file;       // required
  std::string validation_file;  // required
  std::string tokenizer;        // required: a tokenizer.json, or a folder with encoder.json and vocab.bpe
  int64_t vocab_size = -1;      // required: the token files' and the tokenizer's vocabulary size
  int64_t context_length = 256;  // T: tokens per training and validation window
  int64_t seed = 0;              // of the random training windows

  void post_init() {}
  void validate(const std::string& path = "") const;

  template <class V>
  void fields(V&& v) {
    v("train_file", train_file, FieldKind::user);
    v("validation_file", validation_file, FieldKind::user);
    v("tokenizer", tokenizer, FieldKind::user);
    v("vocab_size", vocab_size, FieldKind::user);
    v("context_length", context_length, FieldKind::user);
    v("seed", seed, FieldKind::user);
  }
};

// The config with its three paths made absolute (realpath, links resolved), as `xlstm train` stores it
// in checkpoints, so that `xlstm generate` finds the tokenizer from any working directory. DataError
// naming the field (after `path`) and the path when one does not exist.
TokenFilesConfig with_absolute_paths(const TokenFilesConfig& config, const std::string& path = "dataset.kwargs");

}  // namespace xlstm::data
