// Umbrella header of the xlstm library: configs, components, mLSTM / sLSTM layers, blocks, the block
// stack, the language model, xLSTM-Large and its generation, checkpoint IO, the tokenizer and data, and
// the training library.
#pragma once

#include "xlstm/block.h"
#include "xlstm/block_stack.h"
#include "xlstm/config.h"
#include "xlstm/data/dataset.h"
#include "xlstm/data/formal_language_dataset.h"
#include "xlstm/data/mqar.h"
#include "xlstm/data/repeated_segments.h"
#include "xlstm/generate.h"
#include "xlstm/io/hf_config.h"
#include "xlstm/io/hub_names.h"
#include "xlstm/io/pretrained.h"
#include "xlstm/io/safetensors.h"
#include "xlstm/io/state_dict.h"
#include "xlstm/large/model.h"
#include "xlstm/large/pretrained.h"
#include "xlstm/large/weight_mode.h"
#include "xlstm/lm_model.h"
#include "xlstm/mlstm/backends.h"
#include "xlstm/mlstm/layer.h"
#include "xlstm/slstm/layer.h"
#include "xlstm/state.h"
#include "xlstm/tokenizer/tokenizer.h"
#include "xlstm/train/experiment.h"
#include "xlstm/train/launcher.h"
