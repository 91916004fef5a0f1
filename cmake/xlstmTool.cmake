# The xlstm command-line tool (src/cli/*.cpp, not part of the library): target xlstm_cli, built as
# `xlstm` in the build folder and installed with the library (xlstmInstall.cmake).
file(GLOB XLSTM_CLI_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/cli/*.cpp)
add_executable(xlstm_cli ${XLSTM_CLI_SOURCES})
set_target_properties(xlstm_cli PROPERTIES OUTPUT_NAME xlstm
  INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}" INSTALL_RPATH_USE_LINK_PATH TRUE
  UNITY_BUILD ${XLSTM_UNITY_BUILD} UNITY_BUILD_BATCH_SIZE ${XLSTM_UNITY_BATCH})
target_link_libraries(xlstm_cli PRIVATE xlstm::xlstm)
target_include_directories(xlstm_cli PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_compile_options(xlstm_cli PRIVATE -Wall -Wextra -Wno-unused-parameter)
target_precompile_headers(xlstm_cli PRIVATE <torch/torch.h>)
