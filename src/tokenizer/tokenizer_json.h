// Reading the parts of a Hugging Face tokenizer.json (tokenizer_json*.cpp): the BPE model and added
// tokens, and the pipeline around them (normalizer, pre-tokenizer, post-processor, decoder).
#pragma once

#include "tokenizer/json_fields.h"
#include "tokenizer/tokenizer_impl.h"

namespace xlstm::tokenizer {

// Reads "normalizer", "pre_tokenizer", "post_processor" (the template's ids) and "decoder" into `impl`.
void read_pipeline(const JsonFile& file, Tokenizer::Impl& impl);

}  // namespace xlstm::tokenizer
