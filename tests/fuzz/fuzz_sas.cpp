// SAS tokens (core::sas_token) and service connection strings (service::service_connection_string).
// Invariants: a token either parses or fails with hub_error 401002 (IotHubUnauthorizedAccess,
// "Malformed SAS token: ..."); a parsed token answers every question without throwing; a token
// created for the parsed scope, expiry and policy with a known key parses back to the same
// values and verifies with that key and no other. A connection string parses or fails with
// std::invalid_argument, and a parsed one has every part non-empty.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/sas_token.hpp"
#include "service/connection_string.hpp"

using mockhub::core::hub_error;
using mockhub::core::sas_token;

namespace {
constexpr std::string_view key = "c2VjcmV0LWtleS1mb3ItZnV6emluZy0zMi1ieXRlcyE=";
constexpr std::string_view other_key = "b3RoZXIta2V5LWZvci1mdXp6aW5nLTMyLWJ5dGVzIQ==";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  try {
    const auto token = sas_token::parse(text);
    FUZZ_CHECK(token.expiry_seconds() >= 0 && token.expiry_seconds() <= sas_token::max_expiry, "se within range");
    (void)token.string_to_sign();
    (void)token.expiry();
    (void)token.is_expired_at(mockhub::core::time_point{});
    (void)token.covers("mockhub.azure-devices.net/devices/lock-1");
    FUZZ_CHECK(!token.is_signed_with(key) || text.find("sig=") != std::string_view::npos, "no signature, no match");

    const auto created = sas_token::create(token.resource(), key, token.expiry_seconds(),
                                           token.key_name().value_or(std::string()));
    const auto again = sas_token::parse(created);
    FUZZ_CHECK(again.resource() == token.resource(), "create -> parse keeps sr");
    FUZZ_CHECK(again.expiry_seconds() == token.expiry_seconds(), "create -> parse keeps se");
    FUZZ_CHECK(again.key_name().value_or("") == token.key_name().value_or(""), "create -> parse keeps skn");
    FUZZ_CHECK(again.is_signed_with(key), "a created token verifies with its key");
    FUZZ_CHECK(!again.is_signed_with(other_key), "a created token does not verify with another key");
  } catch (const hub_error& e) {
    FUZZ_CHECK(e.code() == 401002, "a malformed token is 401002 IotHubUnauthorizedAccess");
  }

  try {
    const auto cs = mockhub::service::service_connection_string::parse(text);
    FUZZ_CHECK(!cs.host_name.empty() && !cs.key_name.empty() && !cs.key.empty(), "a parsed connection string is whole");
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
