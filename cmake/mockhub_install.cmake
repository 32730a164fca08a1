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

# Exported: mockhub::device, mockhub::service, mockhub::harness (what users link) and every
# library of this project they need at link time, found by walking their link dependencies (so a
# library added to the hub later is exported without a change here). Names drop the
# `mock_hub_`/`mockhub_` prefix: mock_hub_core -> mockhub::core, mockhub_warnings -> mockhub::warnings.
function(mockhub_collect_link_closure target out)
  set(seen ${${out}})
  if(target IN_LIST seen)
    return()
  endif()
  list(APPEND seen ${target})
  get_target_property(deps ${target} LINK_LIBRARIES)
  get_target_property(interface_deps ${target} INTERFACE_LINK_LIBRARIES)
  foreach(dep IN LISTS deps interface_deps)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" dep "${dep}")
    if(TARGET "${dep}")
      get_target_property(imported ${dep} IMPORTED)
      get_target_property(aliased ${dep} ALIASED_TARGET)
      if(aliased)
        set(dep ${aliased})
      endif()
      if(NOT imported)
        mockhub_collect_link_closure(${dep} seen)
      endif()
    endif()
  endforeach()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

set(mockhub_exported_libraries)
foreach(target mockhub_device mockhub_fleet mockhub_service mockhub_harness)
  mockhub_collect_link_closure(${target} mockhub_exported_libraries)
endforeach()
foreach(target IN LISTS mockhub_exported_libraries)
  string(REGEX REPLACE "^(mock_hub_|mockhub_)" "" name ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
endforeach()
set_target_properties(mockhub PROPERTIES EXPORT_NAME mockhub)

install(TARGETS ${mockhub_exported_libraries} EXPORT mockhubTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS mockhub EXPORT mockhubTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Always lib/mockhub (not CMAKE_INSTALL_LIBDIR, which is lib/<multiarch> under /usr): the path
# mock_hub/server/CMakeLists.txt gives hub_runtime.
install(TARGETS mockhub_broker_plugin LIBRARY DESTINATION lib/mockhub)
# The fixtures (fleets, golden traces): `mockhub demo` finds its door locks in
# <prefix>/share/mockhub/fixtures, next to <prefix>/bin/mockhub.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/fixtures/ DESTINATION share/mockhub/fixtures)

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
