# `cmake --install` (docs/configuration.md "Installing"): the `mockhub` command in bin/, the broker
# plugin in lib/mockhub/ (where hub_runtime looks for it next to a program in bin/), the static
# libraries, the public headers, and a CMake package:
#
#   find_package(mockhub REQUIRED)
#   target_link_libraries(my_tests PRIVATE mockhub::harness)   # or mockhub::device, mockhub::service
#   mockhub_add_hub_fixture(hub FLEET fleet.json)                # cmake/mockhub_fixture.cmake
#
# The libraries are installed as built: a sanitized build (MOCKHUB_SANITIZE) exports targets that
# carry the sanitizer link options (mockhub::sanitizers), so a consumer links the runtime it needs.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MOCKHUB_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/mockhub)

# Installed include directories of the public libraries (their build-tree ones stay as they are).
foreach(target mockhub_device mockhub_service mockhub_harness)
  target_include_directories(${target} PUBLIC $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()

# Exported names: mockhub::device, mockhub::service, mockhub::harness (what users link), and what
# those need at link time (static libraries of the hub, the warning/sanitizer interface targets).
set(mockhub_export_names
  mockhub_device=device mockhub_fleet=fleet mockhub_fleet_seed=fleet_seed mockhub_service=service mockhub_harness=harness
  mock_hub_core=core mock_hub_executor=executor mock_hub_broker_link=broker_link
  mock_hub_broker_launcher=broker_launcher mock_hub_rest=rest mock_hub_server=server
  mockhub_warnings=warnings mockhub_compiler_warnings=compiler_warnings mockhub_sanitizers=sanitizers
  mockhub=mockhub)
set(mockhub_exported_libraries)
foreach(pair IN LISTS mockhub_export_names)
  string(REPLACE "=" ";" pair "${pair}")
  list(GET pair 0 target)
  list(GET pair 1 name)
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  if(NOT target STREQUAL "mockhub")
    list(APPEND mockhub_exported_libraries ${target})
  endif()
endforeach()

install(TARGETS ${mockhub_exported_libraries} EXPORT mockhubTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS mockhub EXPORT mockhubTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Always lib/mockhub (not CMAKE_INSTALL_LIBDIR, which is lib/<multiarch> under /usr): the path
# mock_hub/server/CMakeLists.txt gives hub_runtime.
install(TARGETS mockhub_broker_plugin LIBRARY DESTINATION lib/mockhub)

# Public headers: <mockhub/device/...>, <mockhub/harness/...>, "service/..." (as in the build tree).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/device/include/ ${PROJECT_SOURCE_DIR}/harness/include/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
file(GLOB mockhub_service_headers ${PROJECT_SOURCE_DIR}/service/*.hpp)
list(FILTER mockhub_service_headers EXCLUDE REGEX "/(http_transport|json_members)\\.hpp$")  # private
install(FILES ${mockhub_service_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/service)

install(EXPORT mockhubTargets NAMESPACE mockhub:: DESTINATION ${MOCKHUB_INSTALL_CMAKEDIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/mockhubConfig.cmake.in
  ${PROJECT_BINARY_DIR}/mockhubConfig.cmake
  INSTALL_DESTINATION ${MOCKHUB_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mockhubConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/mockhubConfig.cmake
  ${PROJECT_BINARY_DIR}/mockhubConfigVersion.cmake
  ${CMAKE_CURRENT_LIST_DIR}/mockhub_fixture.cmake
  DESTINATION ${MOCKHUB_INSTALL_CMAKEDIR})
