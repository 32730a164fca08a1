// What every fuzz target uses: an invariant check that stops the run with a message (libFuzzer
// then saves the input as crash-<sha1>), and the one error type the hub may throw.
#pragma once

#include <cstdio>
#include <cstdlib>

/// Aborts with `what` when `condition` is false: the fuzzer records the input as a crash.
#define FUZZ_CHECK(condition, what)                                                        \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", what, __FILE__, __LINE__); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)
