# The Transformer baseline of the language-model results (cmake -P): its parameter count is within 3%
# of the xLSTM[7:1] config it is compared with (`xlstm info`), and a short CPU run on token files of
# three Brown documents finishes with its results row while the train loss falls.
# Arguments: BASELINE, CLI (the xlstm tool), CONFIGS (the configs folder), SHARED (fixtures and data),
# WORK (a scratch folder).
include(${CMAKE_CURRENT_LIST_DIR}/train_losses.cmake)
function(run_checked)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${ARGN} exited with ${rc}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

# "parameters: 19,553,136" -> 19553136
function(parameters_in text var)
  if(NOT text MATCHES "parameters: ([0-9,]+)")
    message(FATAL_ERROR "no parameter count in:\n${text}")
  endif()
  string(REPLACE "," "" n "${CMAKE_MATCH_1}")
  set(${var} ${n} PARENT_SCOPE)
endfunction()

run_checked("${CLI}" info --config "${CONFIGS}/lm_brown.yaml")
parameters_in("${out}" xlstm)
run_checked("${BASELINE}" --config "${CONFIGS}/lm_brown_transformer.yaml" --check)
parameters_in("${out}" transformer)
math(EXPR difference "${transformer} - ${xlstm}")
math(EXPR tolerance "${xlstm} * 3 / 100")
if(difference GREATER tolerance OR difference LESS -${tolerance})
  message(FATAL_ERROR "the baseline has ${transformer} parameters, the xLSTM[7:1] config ${xlstm}")
endif()
message(STATUS "parameters: Transformer ${transformer}, xLSTM[7:1] ${xlstm}")

file(REMOVE_RECURSE "${WORK}")
foreach(name ca01 cg22 cp07)
  file(COPY "${SHARED}/data/brown/${name}" DESTINATION "${WORK}/corpus")
endforeach()
run_checked("${CLI}" prepare-data --corpus "${WORK}/corpus" --tokenizer "${SHARED}/data/gpt2" --out "${WORK}/data"
            --val-fraction 0.34)
set(overrides training.num_steps=40 training.batch_size=4 training.lr=0.01 training.lr_warmup_steps=4
    training.val_every_step=0 training.log_every_step=5 training.device=cpu training.enable_mixed_precision=false
    training.checkpoint_every_step=0 dataset.kwargs.context_length=32 transformer.embedding_dim=32
    transformer.num_layers=2 transformer.num_heads=2 "dataset.kwargs.train_file=${WORK}/data/train.bin"
    "dataset.kwargs.validation_file=${WORK}/data/val.bin" "dataset.kwargs.tokenizer=${SHARED}/data/gpt2")
set(args --config "${CONFIGS}/lm_brown_transformer.yaml" --output "${WORK}/run" --threads 2)
foreach(override IN LISTS overrides)
  list(APPEND args --set "${override}")
endforeach()
run_checked("${BASELINE}" ${args})
if(NOT out MATCHES "\\| Transformer \\(2 layers, E 32\\) \\| [0-9,]+ \\| 5,120 \\|")
  message(FATAL_ERROR "no results row in the output:\n${out}")
endif()
first_last_train_loss("${WORK}/run/metrics.jsonl" first last)
if(first STREQUAL "" OR NOT last LESS first)
  message(FATAL_ERROR "the train loss did not fall: first ${first}, last ${last}")
endif()
message(STATUS "train loss ${first} -> ${last}")
