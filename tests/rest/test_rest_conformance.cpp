// Every response body of the supported operations against the 2021-04-12 swagger definitions
// (field names and JSON types, recursively), loaded from ../shared/reference at test time.
#include "rest_fixture.hpp"
#include "swagger_schema.hpp"

#include "mock_hub/core/time_format.hpp"

using mockhub::test::body_of;
using mockhub::test::rest_fixture;
using mockhub::test::swagger_schema;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

void conforms(const json& value, const std::string& definition) {
  const auto problems = swagger_schema::load().check(value, definition);
  INFO(definition << ": " << value.dump());
  for (const auto& p : problems) FAIL_CHECK(p);
  CHECK(problems.empty());
}

void each_conforms(const json& array, const std::string& definition) {
  REQUIRE(array.is_array());
  for (const auto& item : array) conforms(item, definition);
}

// The definition the swagger names for an operation's 200 response.
std::string response_definition(const std::string& path, const std::string& method) {
  const auto& schema = swagger_schema::load().document()["paths"][path][method]["responses"]["200"]["schema"];
  const auto& ref = schema.contains("items") ? schema["items"]["$ref"] : schema["$ref"];
  const std::string r = ref;
  return r.substr(r.rfind('/') + 1);
}

}  // namespace

TEST_CASE("The schema checker itself finds unknown members, wrong types, bad enums and dates", "[rest][conformance]") {
  const auto& s = swagger_schema::load();
  CHECK(s.check({{"deviceId", "d"}, {"status", "enabled"}, {"cloudToDeviceMessageCount", 3}}, "Device").empty());
  CHECK(s.check({{"deviceID", "d"}}, "Device").size() == 1);
  CHECK(s.check({{"status", "on"}}, "Device").size() == 1);
  CHECK(s.check({{"cloudToDeviceMessageCount", "3"}}, "Device").size() == 1);
  CHECK(s.check({{"lastActivityTime", "yesterday"}}, "Device").size() == 1);
  CHECK(s.check({{"authentication", {{"symmetricKey", {{"primaryKey", 1}}}}}}, "Device").size() == 1);
  CHECK(s.check({{"capabilities", {{"iotEdge", "no"}}}}, "Device").size() == 1);
  CHECK(s.check({{"parentScopes", {1}}}, "Device").size() == 1);
  CHECK(s.check({{"modelId", ""}}, "Twin").empty());
}

TEST_CASE("Response bodies of every supported operation conform to the swagger", "[rest][conformance]") {
  rest_fixture hub({.max_concurrent_jobs = 10});
  CHECK(response_definition("/devices/{id}", "put") == "Device");
  CHECK(response_definition("/twins/{id}", "get") == "Twin");
  CHECK(response_definition("/twins/{deviceId}/methods", "post") == "CloudToDeviceMethodResult");
  CHECK(response_definition("/jobs/v2/{id}", "put") == "JobResponse");

  // Registry
  conforms(body_of(hub.put("/devices/dev1", {{"deviceId", "dev1"}})), response_definition("/devices/{id}", "put"));
  conforms(body_of(hub.put("/devices/edge1", {{"deviceId", "edge1"},
                                               {"capabilities", {{"iotEdge", true}}},
                                               {"status", "disabled"},
                                               {"statusReason", "maintenance"}})),
           "Device");
  conforms(body_of(hub.put("/devices/x509", {{"deviceId", "x509"},
                                             {"authentication",
                                              {{"type", "selfSigned"},
                                               {"x509Thumbprint",
                                                {{"primaryThumbprint", std::string(40, 'A')},
                                                 {"secondaryThumbprint", std::string(40, 'B')}}}}}})),
           "Device");
  hub.connect("dev1");
  hub.devices().answer_with("dev1", {200, R"({"locked":true})"});
  conforms(body_of(hub.get("/devices/dev1")), response_definition("/devices/{id}", "get"));
  each_conforms(body_of(hub.get("/devices")), response_definition("/devices", "get"));
  conforms(body_of(hub.get("/statistics/devices")), response_definition("/statistics/devices", "get"));
  conforms(body_of(hub.get("/statistics/service")), response_definition("/statistics/service", "get"));
  conforms(body_of(hub.del("/devices/dev1/commands")), response_definition("/devices/{id}/commands", "delete"));

  // Twins
  conforms(body_of(hub.get("/twins/dev1")), response_definition("/twins/{id}", "get"));
  conforms(body_of(hub.patch("/twins/dev1", {{"tags", {{"site", "lab"}, {"floor", 2}}},
                                             {"properties", {{"desired", {{"mode", {{"a", 1}}}}}}}})),
           response_definition("/twins/{id}", "patch"));
  conforms(body_of(hub.put("/twins/dev1", {{"tags", {{"site", "lab"}}}})), response_definition("/twins/{id}", "put"));
  conforms(body_of(hub.get("/twins/x509")), "Twin");
  each_conforms(body_of(hub.post("/devices/query", {{"query", "SELECT * FROM devices"}})),
                response_definition("/devices/query", "post"));

  // Methods
  conforms(body_of(hub.post("/twins/dev1/methods", {{"methodName", "lockDoor"}, {"payload", {{"door", "front"}}}})),
           response_definition("/twins/{deviceId}/methods", "post"));
  hub.devices().answer_with("dev1", {200, "42"});
  conforms(body_of(hub.post("/twins/dev1/methods", {{"methodName", "count"}})), "CloudToDeviceMethodResult");

  // Jobs
  const json method_job = {{"jobId", "m1"},
                           {"type", "scheduleDeviceMethod"},
                           {"cloudToDeviceMethod", {{"methodName", "lockDoor"}, {"payload", {{"door", "all"}}}}},
                           {"queryCondition", "*"},
                           {"startTime", nullptr},
                           {"maxExecutionTimeInSeconds", 600}};
  const json twin_job = {{"jobId", "t1"},
                         {"type", "scheduleUpdateTwin"},
                         {"updateTwin", {{"etag", "*"}, {"tags", {{"fleet", "A"}}}, {"properties", {{"desired", {{"x", 1}}}}}}},
                         {"queryCondition", "tags.site = 'lab'"},
                         {"startTime", mockhub::core::format_time(hub.now() + 1h)}};
  conforms(body_of(hub.put("/jobs/v2/m1", method_job)), response_definition("/jobs/v2/{id}", "put"));
  conforms(body_of(hub.put("/jobs/v2/t1", twin_job)), "JobResponse");
  hub.advance(0s);
  conforms(body_of(hub.get("/jobs/v2/m1")), response_definition("/jobs/v2/{id}", "get"));
  conforms(body_of(hub.post_empty("/jobs/v2/t1/cancel")), response_definition("/jobs/v2/{id}/cancel", "post"));
  // The swagger says QueryResult; SDKs read a bare array of JobResponse (reference section 5.5).
  each_conforms(body_of(hub.get("/jobs/v2/query")), "JobResponse");
}
