// Preparing the Brown Corpus for language modelling: plain text (brown.h), tokenized, split by
// document into train.bin and val.bin token files (token_file.h) plus prepare.json describing the run.
//
// The split is deterministic: documents sorted by name are shuffled by Fisher-Yates with a SplitMix64
// stream from `seed`; the first round(val_fraction * n) of them (at least 1 and at most n - 1 when
// val_fraction > 0) are validation. Each split's token stream is its documents in name order, each
// document's tokens followed by the end-of-text token (<|endoftext|>) when the tokenizer has one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xlstm/tokenizer/tokenizer.h"

namespace xlstm::data {

struct PrepareOptions {
  double val_fraction = 0.05;  // in [0, 1)
  uint64_t seed = 0;
};

struct SplitSummary {
  std::vector<std::string> documents;  // names, sorted
  int64_t tokens = 0;
};

struct PrepareResult {
  SplitSummary train, val;
  int64_t text_bytes = 0;        // plain-text bytes tokenized
  double tokenize_seconds = 0;  // time spent in Tokenizer::encode
};

// The validation documents of a split of `documents` (their names, sorted); DataError when
// val_fraction is outside [0, 1).
std::vector<std::string> choose_validation(const std::vector<std::string>& documents, double val_fraction, uint64_t seed);

// Reads every document of `corpus_dir`, writes out_dir/train.bin, out_dir/val.bin and
// out_dir/prepare.json (out_dir is created if missing; its parent must exist). DataError (or
// TokenizerError) naming the file at fault; a tokenizer whose vocabulary exceeds 65536 tokens is
// refused before anything is written.
PrepareResult prepare_brown_corpus(const std::string& corpus_dir, const tokenizer::Tokenizer& tokenizer,
                                   const std::string& out_dir, const PrepareOptions& options = {});

}  // namespace xlstm::data
