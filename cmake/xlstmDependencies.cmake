# Finds the dependencies of the library and decides whether the CUDA kernels are built.
# Sets: TORCH_LIBRARIES, XLSTM_WITH_CUDA, XLSTM_CUDA_GENCODE, XLSTM_WITH_GLOO, XLSTM_GLOO_INCLUDE_DIR,
# XLSTM_NCCL_INCLUDE_DIR, targets xlstm_yaml and xlstm_json.
include(GNUInstallDirs)
include(CheckLanguage)

# Torch's own CUDA setup reads TORCH_CUDA_ARCH_LIST; keep it from probing a GPU at configure time.
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0")
endif()
if(NOT XLSTM_CUDA STREQUAL "OFF")
  check_language(CUDA)
endif()
find_package(Torch REQUIRED)
if(Torch_VERSION VERSION_LESS 2.0)
  message(FATAL_ERROR "xlstm needs LibTorch 2.x, found ${Torch_VERSION}")
endif()

set(XLSTM_WITH_CUDA OFF)
if(XLSTM_CUDA STREQUAL "OFF")
  message(STATUS "xlstm: CUDA kernels disabled (XLSTM_CUDA=OFF)")
elseif(CAFFE2_USE_CUDA AND CMAKE_CUDA_COMPILER)
  set(XLSTM_WITH_CUDA ON)
elseif(XLSTM_CUDA STREQUAL "ON")
  message(FATAL_ERROR "XLSTM_CUDA=ON but Torch has no CUDA (CAFFE2_USE_CUDA='${CAFFE2_USE_CUDA}') "
                      "or no CUDA compiler was found (CMAKE_CUDA_COMPILER='${CMAKE_CUDA_COMPILER}')")
else()
  message(STATUS "xlstm: CUDA kernels not built (Torch CUDA: '${CAFFE2_USE_CUDA}', nvcc: '${CMAKE_CUDA_COMPILER}')")
endif()

if(XLSTM_WITH_CUDA)
  enable_language(CUDA)
  # Torch puts -gencode flags for TORCH_CUDA_ARCH_LIST into CMAKE_CUDA_FLAGS; XLSTM_CUDA_ARCHS alone
  # decides (otherwise every kernel is also compiled for plain sm_90 next to sm_90a).
  string(REGEX REPLACE "-gencode[ =]arch=compute_[0-9]+a?,code=(sm|compute)_[0-9]+a?" "" CMAKE_CUDA_FLAGS
                       "${CMAKE_CUDA_FLAGS}")
  set(XLSTM_CUDA_GENCODE "")
  foreach(arch IN LISTS XLSTM_CUDA_ARCHS)
    list(APPEND XLSTM_CUDA_GENCODE "-gencode=arch=compute_${arch},code=sm_${arch}")
  endforeach()
  message(STATUS "xlstm: CUDA kernels for ${XLSTM_CUDA_ARCHS} (nvcc ${CMAKE_CUDA_COMPILER_VERSION})")
endif()

# Data-parallel training (src/train/distributed*): c10d is inside LibTorch, but the pip wheel ships
# neither gloo's headers, which ProcessGroupGloo.hpp includes (Debian: libgloo-dev; only the headers
# are used, the code is LibTorch's), nor NCCL's nccl.h, which ProcessGroupNCCL.hpp includes (the CUDA
# toolkit's, or PyPI's nvidia-nccl next to torch). Without gloo's headers the gloo backend is left out.
find_path(XLSTM_GLOO_INCLUDE_DIR gloo/algorithm.h HINTS ${PROJECT_SOURCE_DIR}/.deps/include
          DOC "Folder holding gloo/algorithm.h (gloo's headers, for the gloo backend)")
set(XLSTM_WITH_GLOO OFF)
if(XLSTM_GLOO_INCLUDE_DIR)
  set(XLSTM_WITH_GLOO ON)
else()
  message(STATUS "xlstm: gloo's headers not found (install libgloo-dev or set XLSTM_GLOO_INCLUDE_DIR): "
                 "data-parallel training without the gloo backend")
endif()
if(XLSTM_WITH_CUDA)
  find_package(CUDAToolkit QUIET)
  find_path(XLSTM_NCCL_INCLUDE_DIR nccl.h
            HINTS ${CUDAToolkit_INCLUDE_DIRS} ${TORCH_INSTALL_PREFIX}/../nvidia/nccl/include
            DOC "Folder holding nccl.h (for the nccl backend)")
  if(NOT XLSTM_NCCL_INCLUDE_DIR)
    message(FATAL_ERROR "nccl.h not found (CUDA toolkit, or pip's nvidia-nccl): set XLSTM_NCCL_INCLUDE_DIR")
  endif()
endif()

# yaml-cpp 0.7 (Debian 12) exports `yaml-cpp`, 0.8 exports `yaml-cpp::yaml-cpp`.
find_package(yaml-cpp REQUIRED)
add_library(xlstm_yaml INTERFACE)
if(TARGET yaml-cpp::yaml-cpp)
  target_link_libraries(xlstm_yaml INTERFACE yaml-cpp::yaml-cpp)
else()
  target_link_libraries(xlstm_yaml INTERFACE yaml-cpp)
endif()

# nlohmann_json is header-only and used privately (safetensors headers, JSON configs).
find_package(nlohmann_json 3.2 QUIET)
add_library(xlstm_json INTERFACE)
if(TARGET nlohmann_json::nlohmann_json)
  target_link_libraries(xlstm_json INTERFACE nlohmann_json::nlohmann_json)
else()
  find_path(XLSTM_NLOHMANN_INCLUDE_DIR nlohmann/json.hpp REQUIRED)
  target_include_directories(xlstm_json SYSTEM INTERFACE ${XLSTM_NLOHMANN_INCLUDE_DIR})
endif()

# Under add_subdirectory the imported targets found here (torch, c10, CUDA::*, yaml-cpp, ...) would be
# visible in this directory only, while xlstm::xlstm's interface names them: make them global.
if(NOT XLSTM_IS_TOP_LEVEL)
  get_property(xlstm_imported DIRECTORY PROPERTY IMPORTED_TARGETS)
  foreach(t IN LISTS xlstm_imported)
    get_target_property(is_global ${t} IMPORTED_GLOBAL)
    if(NOT is_global)
      set_target_properties(${t} PROPERTIES IMPORTED_GLOBAL TRUE)
    endif()
  endforeach()
endif()
