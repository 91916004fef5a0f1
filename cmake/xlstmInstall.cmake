# Install rules and the CMake package: find_package(xlstm CONFIG) gives xlstm::xlstm.
include(CMakePackageConfigHelpers)
install(TARGETS xlstm EXPORT xlstmTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/xlstm DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET xlstm_cli)
  install(TARGETS xlstm_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(EXPORT xlstmTargets NAMESPACE xlstm:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/xlstm)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/xlstmConfig.cmake.in
  ${PROJECT_BINARY_DIR}/xlstmConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/xlstm)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/xlstmConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/xlstmConfig.cmake ${PROJECT_BINARY_DIR}/xlstmConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/xlstm)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/xlstm/configs)
