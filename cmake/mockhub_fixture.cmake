# CTest fixtures that start a hub before a user's tests and stop it after them (installed with the
# mockhub package; docs/harness.md "A hub around your ctest tests").
#
#   mockhub_add_hub_fixture(NAME [FLEET file] [TIER t] [RECORD file] [DATA_DIR dir]
#                           [START_ARGS args...] [TESTS tests...])
#
# registers two tests: `NAME.start` (FIXTURES_SETUP NAME) runs
# `mockhub start --detach --data-dir DIR [--fleet F] [--tier T] [--record R] [START_ARGS]`, which
# returns once DIR/hub.json exists; `NAME.stop` (FIXTURES_CLEANUP NAME) runs
# `mockhub stop --data-dir DIR`. DIR defaults to ${CMAKE_CURRENT_BINARY_DIR}/mockhub-NAME and is
# also set as `NAME_DATA_DIR` in the caller's scope. Tests named in TESTS (or given later to
# mockhub_use_hub_fixture) require the fixture and get MOCKHUB_DATA_DIR=DIR in their environment:
# they find the hub through DIR/hub.json (mockhub::harness::running_hub::from_environment()).
# Tests discovered at build time (catch_discover_tests) take the same two properties:
#
#   catch_discover_tests(my_tests PROPERTIES FIXTURES_REQUIRED hub ENVIRONMENT "MOCKHUB_DATA_DIR=${hub_DATA_DIR}")
#
# MOCKHUB_COMMAND names the mockhub program (default: the package's mockhub::mockhub).
include_guard(GLOBAL)

function(mockhub_add_hub_fixture name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "FLEET;TIER;RECORD;DATA_DIR" "START_ARGS;TESTS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "mockhub_add_hub_fixture(${name}): unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT name MATCHES "^[A-Za-z0-9_.-]+$")
    message(FATAL_ERROR "mockhub_add_hub_fixture: '${name}' is not a fixture name (letters, digits, _ . -)")
  endif()
  set(command mockhub::mockhub)
  if(MOCKHUB_COMMAND)
    set(command "${MOCKHUB_COMMAND}")
  endif()
  if(NOT arg_DATA_DIR)
    set(arg_DATA_DIR "${CMAKE_CURRENT_BINARY_DIR}/mockhub-${name}")
  endif()
  set(start start --detach --data-dir "${arg_DATA_DIR}")
  if(arg_FLEET)
    get_filename_component(arg_FLEET "${arg_FLEET}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND start --fleet "${arg_FLEET}")
  endif()
  if(arg_TIER)
    list(APPEND start --tier "${arg_TIER}")
  endif()
  if(arg_RECORD)
    list(APPEND start --record "${arg_RECORD}")
  endif()
  list(APPEND start ${arg_START_ARGS})

  add_test(NAME "${name}.start" COMMAND ${command} ${start})
  set_tests_properties("${name}.start" PROPERTIES FIXTURES_SETUP "${name}" TIMEOUT 120)
  add_test(NAME "${name}.stop" COMMAND ${command} stop --data-dir "${arg_DATA_DIR}")
  set_tests_properties("${name}.stop" PROPERTIES FIXTURES_CLEANUP "${name}" TIMEOUT 120)
  set_property(DIRECTORY PROPERTY "mockhub_fixture_${name}" "${arg_DATA_DIR}")
  set(${name}_DATA_DIR "${arg_DATA_DIR}" PARENT_SCOPE)
  if(arg_TESTS)
    mockhub_use_hub_fixture(${name} ${arg_TESTS})
  endif()
endfunction()

# mockhub_use_hub_fixture(NAME tests...): those tests run while the NAME hub runs and find it
# through MOCKHUB_DATA_DIR. Same directory as mockhub_add_hub_fixture.
function(mockhub_use_hub_fixture name)
  get_property(dir DIRECTORY PROPERTY "mockhub_fixture_${name}")
  if(NOT dir)
    message(FATAL_ERROR "mockhub_use_hub_fixture: no hub fixture '${name}' in this directory (call mockhub_add_hub_fixture first)")
  endif()
  foreach(test IN LISTS ARGN)
    set_property(TEST "${test}" APPEND PROPERTY FIXTURES_REQUIRED "${name}")
    set_property(TEST "${test}" APPEND PROPERTY ENVIRONMENT "MOCKHUB_DATA_DIR=${dir}")
  endforeach()
endfunction()
