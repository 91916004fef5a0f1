# Run by CTest: configure, build and run the consumer project (MODE=installed or subdirectory).
# PREFIX_PATH (the Torch prefix, entries joined by ":") travels through the environment.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix_env "${PREFIX_PATH}")
set(args "")
if(MODE STREQUAL "installed")
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${XLSTM_BUILD_DIR} --prefix ${WORK_DIR}/prefix
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "install failed: ${rc}")
  endif()
  set(prefix_env "${WORK_DIR}/prefix:${prefix_env}")
else()
  # The library's sources compiled in two unity batches (one per core of CI's machine): this test checks
  # add_subdirectory, and the main build compiles them in batches of 8 already (CI's copy takes ~95 s,
  # ~190 s in batches of 8, ~590 s file by file). The batches also catch helpers of the same name in
  # two files' anonymous namespaces.
  set(args -DXLSTM_SOURCE_DIR=${XLSTM_SOURCE_DIR} -DXLSTM_CUDA=OFF -DXLSTM_UNITY_BUILD=ON -DXLSTM_UNITY_BATCH=64)
endif()
set(ENV{CMAKE_PREFIX_PATH} "${prefix_env}")
foreach(step configure build run)
  if(step STREQUAL "configure")
    set(cmd ${CMAKE_COMMAND} -S ${CONSUMER_SRC} -B ${WORK_DIR}/build -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release ${args})
  elseif(step STREQUAL "build")
    set(cmd ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
  else()
    set(cmd ${WORK_DIR}/build/consumer)
  endif()
  execute_process(COMMAND ${cmd} RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "consumer (${MODE}): ${step} failed: ${rc}")
  endif()
endforeach()
