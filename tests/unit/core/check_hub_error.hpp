// Test helper: asserts that a call throws a hub_error with the given IoT Hub error code and a
// message containing a key phrase (the house rule: check the exact code, not just "it failed").
#pragma once

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

#include "mock_hub/core/errors.hpp"

namespace mockhub::testing {

template <class F>
void check_hub_error(F&& call, int code, std::string_view phrase) {
  try {
    call();
  } catch (const core::hub_error& e) {
    INFO("message: " << e.message());
    CHECK(e.code() == code);
    CHECK_THAT(std::string(e.message()), Catch::Contains(std::string(phrase)));
    return;
  }
  FAIL("expected hub_error " << code << " mentioning \"" << phrase << "\", nothing was thrown");
}

/// Runs `call` and returns the hub_error it throws, failing the test when it throws none.
template <class F>
core::hub_error caught_hub_error(F&& call) {
  try {
    call();
  } catch (const core::hub_error& e) {
    return e;
  }
  FAIL("expected a hub_error, nothing was thrown");
  throw std::logic_error("unreachable");
}

}  // namespace mockhub::testing
