// Parameter names of the Hugging Face hub checkpoints of xLSTM-Large (`NX-AI/xLSTM-7b`, written by
// transformers' xLSTMForCausalLM) versus this library's (= the reference's `xlstm_large`, §6.3):
//
//   hub                               this library
//   backbone.embeddings.weight        embedding.weight
//   backbone.blocks.{i}.<rest>        backbone.blocks.{i}.<rest>   (same)
//   backbone.out_norm.weight          backbone.out_norm.weight     (same)
//   lm_head.weight                    lm_head.weight               (same)
//
// transformers keeps the embedding inside its backbone (xLSTMModel.embeddings); everything else has
// the reference's names. Names outside the table pass through unchanged, so the mapping is harmless
// for other modules.
#pragma once

#include <string>

namespace xlstm::io {

std::string module_name_from_hub(const std::string& hub_name);
std::string hub_name_from_module(const std::string& module_name);

}  // namespace xlstm::io
