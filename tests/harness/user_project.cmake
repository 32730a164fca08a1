# `cmake -P` script of the test "harness: the example user project builds against the installed
# package and its tests pass": installs this build to a fresh prefix, configures and builds
# examples/user_project against it (find_package(mockhub)), and runs its ctest; also runs the
# installed `mockhub demo`, which must find the installed fixtures.
# -D: BUILD_DIR SOURCE_DIR WORK_DIR CXX_COMPILER LAUNCHER BUILD_TYPE HUB_FIXTURE
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR CXX_COMPILER BUILD_TYPE HUB_FIXTURE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "user_project.cmake: -D${var}=... is missing")
  endif()
endforeach()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "user project: ${what} failed (${rc}): ${ARGN}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
run("install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
# The installed `mockhub demo` runs the installed door-lock fixture (not the source tree's).
execute_process(COMMAND "${prefix}/bin/mockhub" demo --devices 2 --twin-delay 1 --method-delay 2 --progress lines
  WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc OUTPUT_VARIABLE demo_output ERROR_VARIABLE demo_output)
string(FIND "${demo_output}" "fleet       ${prefix}/share/mockhub/fixtures/fleets/door-locks.json" at)
if(NOT rc EQUAL 0 OR at EQUAL -1)
  message(FATAL_ERROR "user project: the installed mockhub demo failed (${rc}) or ran another fixture:\n${demo_output}")
endif()
set(configure "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK_DIR}/build"
  "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DDOOR_LOCK_HUB_FIXTURE=${HUB_FIXTURE}")
if(LAUNCHER)
  list(APPEND configure "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()
run("configure" ${configure})
run("build" "${CMAKE_COMMAND}" --build "${WORK_DIR}/build" -j2)
# Without MOCKHUB_BROKER_PLUGIN: the installed package must find its own plugin.
run("ctest" "${CMAKE_COMMAND}" -E env --unset=MOCKHUB_BROKER_PLUGIN --unset=MOCKHUB_DATA_DIR
  "${CMAKE_CTEST_COMMAND}" --test-dir "${WORK_DIR}/build" --output-on-failure)
