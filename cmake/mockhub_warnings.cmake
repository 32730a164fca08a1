# Warnings and sanitizers for the project's own targets (never for third-party code).
#
# - mockhub_compiler_warnings: -Wall -Wextra -Wpedantic (and -Werror), nothing else.
# - mockhub_sanitizers: with MOCKHUB_SANITIZE, the ASan + UBSan compile and link flags; with
#   MOCKHUB_FUZZ (clang only, tests/fuzz), those plus libFuzzer's coverage instrumentation.
# - mockhub_warnings: both. Every normal target links it, so every object of a test binary is
#   instrumented alike. Code loaded by a program we do not build (the broker plugin, a module
#   mosquitto dlopens: Debian's broker is not instrumented, so an instrumented plugin cannot load)
#   links mockhub_compiler_warnings only.
add_library(mockhub_compiler_warnings INTERFACE)
target_compile_options(mockhub_compiler_warnings INTERFACE -Wall -Wextra -Wpedantic)
if(MOCKHUB_WERROR)
  target_compile_options(mockhub_compiler_warnings INTERFACE -Werror)
endif()
# GCC 12 at -O2 and above warns -Wrestrict inside libstdc++'s `"literal" + std::string` (GCC bug
# 105329, a false positive), which broke every optimised build (tools/soak/run-soak's Release).
target_compile_options(mockhub_compiler_warnings INTERFACE
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_GREATER_EQUAL:$<CXX_COMPILER_VERSION>,12>,$<NOT:$<CONFIG:Debug>>>:-Wno-restrict>)

add_library(mockhub_sanitizers INTERFACE)
if(MOCKHUB_FUZZ)
  target_compile_options(mockhub_sanitizers INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(mockhub_sanitizers INTERFACE -fsanitize=address,undefined)
elseif(MOCKHUB_SANITIZE)
  target_compile_options(mockhub_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(mockhub_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

add_library(mockhub_warnings INTERFACE)
target_link_libraries(mockhub_warnings INTERFACE mockhub_compiler_warnings mockhub_sanitizers)
