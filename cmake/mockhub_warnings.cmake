# Warnings and sanitizers for the project's own targets (never for third-party code).
add_library(mockhub_warnings INTERFACE)
target_compile_options(mockhub_warnings INTERFACE -Wall -Wextra -Wpedantic)
if(MOCKHUB_WERROR)
  target_compile_options(mockhub_warnings INTERFACE -Werror)
endif()

if(MOCKHUB_SANITIZE)
  # Applied globally so that every object in a test binary is instrumented alike.
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
