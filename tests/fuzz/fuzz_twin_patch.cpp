// Twin writes (core::twin): the first byte picks the operation (back-end PATCH, back-end PUT, the
// device's reported PATCH), the rest is the JSON body, parsed as the REST adapter parses bodies.
// Invariants: failures are hub_error 400004 ArgumentInvalid or 403100
// DeviceModelMaxPropertiesExceeded; a write that fails changes nothing (the document is
// byte-identical); a write that succeeds leaves every section within its size limit, and the
// versions never go back.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "mock_hub/core/device_identity.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/twin.hpp"
#include "mock_hub/core/twin_limits.hpp"
#include "mock_hub/rest/request_dispatcher.hpp"

namespace core = mockhub::core;
using nlohmann::json;

namespace {

json values_of(const json& section) {
  json out = section;
  if (out.is_object()) {
    out.erase("$metadata");
    out.erase("$version");
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  json body;
  try {
    body = mockhub::rest::parse_request_body(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  } catch (const core::hub_error& e) {
    FUZZ_CHECK(e.code() == 400004, "an unparsable body is 400004");
    return 0;
  }

  core::device_identity identity;
  identity.device_id = "lock-1";
  const core::time_point t0{std::chrono::seconds(1'700'000'000)};
  core::twin twin(identity, t0);
  // Some state to merge into, so deletes and merges have something to act on.
  (void)twin.update(json::parse(R"({"tags":{"building":43,"a":{"b":{"c":1}}},"properties":{"desired":{"x":{"y":[1,2]}}}})"), t0);
  (void)twin.update_reported(json::parse(R"({"locked":true,"deep":{"er":{"est":"z"}}})"), t0);

  const json before = twin.document();
  const auto version = twin.version();
  const auto desired_version = twin.desired_version();
  const auto reported_version = twin.reported_version();
  const core::time_point t1 = t0 + std::chrono::seconds(1);
  try {
    switch (data[0] % 3) {
      case 0: (void)twin.update(body, t1); break;
      case 1: (void)twin.replace(body, t1); break;
      default: (void)twin.update_reported(body, t1); break;
    }
  } catch (const core::hub_error& e) {
    FUZZ_CHECK(e.code() == 400004 || e.code() == 403100, "a refused twin write is 400004 or 403100");
    FUZZ_CHECK(twin.document() == before, "a refused twin write changes nothing");
    return 0;
  }
  const json& doc = twin.document();
  FUZZ_CHECK(twin.version() >= version && twin.desired_version() >= desired_version &&
                 twin.reported_version() >= reported_version,
             "versions never go back");
  if (doc.contains("tags"))
    FUZZ_CHECK(core::section_size(doc["tags"]) <= core::size_limit(core::twin_section::tags), "tags within limit");
  FUZZ_CHECK(core::section_size(values_of(doc["properties"]["desired"])) <= core::size_limit(core::twin_section::desired),
             "desired within limit");
  FUZZ_CHECK(core::section_size(values_of(doc["properties"]["reported"])) <=
                 core::size_limit(core::twin_section::reported),
             "reported within limit");
  (void)twin.device_view().dump();
  return 0;
}
