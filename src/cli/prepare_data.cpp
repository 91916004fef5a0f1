// `xlstm prepare-data`: the Brown Corpus to train / validation token files (data/prepare.h).
#include <cstdio>

#include "cli/command.h"
#include "xlstm/data/prepare.h"

namespace xlstm::cli {
namespace {

int run_prepare_data(const Args& args) {
  data::PrepareOptions options;
  options.val_fraction = args.get_double("val-fraction", options.val_fraction);
  const int64_t seed = args.get_int("seed", 0);
  if (seed < 0) throw UsageError("--seed must not be negative");
  options.seed = static_cast<uint64_t>(seed);
  const std::string corpus = args.get("corpus"), out = args.get("out");
  const auto tok = tokenizer::Tokenizer::from_path(args.get("tokenizer"));
  const data::PrepareResult r = data::prepare_brown_corpus(corpus, tok, out, options);
  std::printf("documents: %zu train, %zu validation (validation fraction %g, seed %lld)\n", r.train.documents.size(),
              r.val.documents.size(), options.val_fraction, static_cast<long long>(seed));
  std::printf("tokens: %lld train -> %s/train.bin, %lld validation -> %s/val.bin (vocabulary %lld)\n",
              static_cast<long long>(r.train.tokens), out.c_str(), static_cast<long long>(r.val.tokens), out.c_str(),
              static_cast<long long>(tok.vocab_size()));
  std::printf("tokenized %.2f MB of text in %.2f s (%.2f MB/s)\n", r.text_bytes / 1e6, r.tokenize_seconds,
              r.tokenize_seconds > 0 ? r.text_bytes / 1e6 / r.tokenize_seconds : 0.0);
  return 0;
}

}  // namespace

Command prepare_data_command() {
  return {"prepare-data", "tokenize the Brown Corpus into train/validation token files",
          "usage: xlstm prepare-data --corpus DIR --tokenizer PATH --out DIR [--val-fraction F] [--seed S]\n"
          "\n"
          "Turns the tagged Brown Corpus files (ca01 ... cr09) into plain text, tokenizes each document\n"
          "(followed by <|endoftext|> when the tokenizer has it) and writes OUT/train.bin, OUT/val.bin\n"
          "(uint16 token files with a header) and OUT/prepare.json. The split is by document and depends\n"
          "only on the seed.\n"
          "\n"
          "  --corpus DIR          the folder of the Brown Corpus files\n"
          "  --tokenizer PATH      a tokenizer.json or a folder (see xlstm tokenize --help); at most 65536 tokens\n"
          "  --out DIR             output folder (created if missing)\n"
          "  --val-fraction F      fraction of the documents for validation, in [0, 1) (default 0.05)\n"
          "  --seed S              seed of the split (default 0)\n",
          {{"corpus"}, {"tokenizer"}, {"out"}, {"val-fraction"}, {"seed"}},
          run_prepare_data};
}

}  // namespace xlstm::cli
