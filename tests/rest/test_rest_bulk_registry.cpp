// BulkRegistry_UpdateRegistry (POST /devices): every importMode, a mixed batch where the good
// entries are applied and the bad ones reported, and the refusals of the whole call.
#include "rest_fixture.hpp"
#include "swagger_schema.hpp"

using mockhub::test::body_of;
using mockhub::test::check_error;
using mockhub::test::rest_fixture;
using mockhub::test::swagger_schema;
using nlohmann::json;

namespace {

json ok_result() { return {{"isSuccessful", true}, {"errors", json::array()}, {"warnings", json::array()}}; }

json entry(const std::string& id, const std::string& mode, json extra = json::object()) {
  extra["id"] = id;
  extra["importMode"] = mode;
  return extra;
}

// The status, the exact BulkRegistryOperationResult, and that it conforms to the swagger (the
// errorCode values are the definition's enum).
void check_result(const httplib::Result& r, int status, const json& expected) {
  REQUIRE(r);
  INFO("body: " << r->body);
  CHECK(r->status == status);
  CHECK(r->get_header_value("Content-Type") == "application/json; charset=utf-8");
  CHECK(body_of(r) == expected);
  for (const auto& problem : swagger_schema::load().check(body_of(r), "BulkRegistryOperationResult")) FAIL_CHECK(problem);
}

json error_of(const std::string& id, const std::string& code, const std::string& status) {
  return {{"deviceId", id}, {"errorCode", code}, {"errorStatus", status}};
}

}  // namespace

TEST_CASE("Bulk create registers every device with generated keys and its twin tags and desired", "[rest][bulk]") {
  rest_fixture hub;
  check_result(hub.post("/devices", json::array({entry("b1", "create", {{"status", "disabled"}, {"tags", {{"site", "north"}}}}),
                                                 entry("b2", "create", {{"properties", {{"desired", {{"rate", 5}}}}}})})),
               200, ok_result());
  const auto b1 = body_of(hub.get("/devices/b1"));
  CHECK(b1["status"] == "disabled");
  CHECK(b1["authentication"]["type"] == "sas");
  CHECK(b1["authentication"]["symmetricKey"]["primaryKey"].get<std::string>().size() == 44);
  CHECK(body_of(hub.get("/twins/b1"))["tags"] == json{{"site", "north"}});
  CHECK(body_of(hub.get("/twins/b2"))["properties"]["desired"]["rate"] == 5);
  CHECK(body_of(hub.get("/statistics/devices")) == json{{"totalDeviceCount", 2}, {"enabledDeviceCount", 1}, {"disabledDeviceCount", 1}});
}

TEST_CASE("Bulk update and updateIfMatchETag overwrite existing devices and register missing ones", "[rest][bulk]") {
  rest_fixture hub;
  const auto d1 = body_of(hub.put("/devices/d1", {{"deviceId", "d1"}}));
  REQUIRE(hub.put("/devices/d2", {{"deviceId", "d2"}})->status == 200);
  // importMode and member names match whatever their case, as azure-iothub sends them ("Update", "etag").
  check_result(hub.post("/devices", json::array({entry("d1", "UpdateIfMatchETag", {{"etag", d1["etag"]}, {"status", "disabled"}}),
                                                 entry("d2", "update", {{"status", "disabled"}, {"statusReason", "bulk"}}),
                                                 entry("d3", "update"), entry("d4", "updateIfMatchETag")})),
               200, ok_result());
  const auto after = body_of(hub.get("/devices/d1"));
  CHECK(after["status"] == "disabled");
  CHECK(after["etag"] != d1["etag"]);
  CHECK(after["authentication"]["symmetricKey"] == d1["authentication"]["symmetricKey"]);  // absent: keys kept
  CHECK(body_of(hub.get("/devices/d2"))["statusReason"] == "bulk");
  CHECK(hub.get("/devices/d3")->status == 200);
  CHECK(hub.get("/devices/d4")->status == 200);
}

TEST_CASE("Bulk delete and deleteIfMatchETag remove devices", "[rest][bulk]") {
  rest_fixture hub;
  const auto d1 = body_of(hub.put("/devices/d1", {{"deviceId", "d1"}}));
  REQUIRE(hub.put("/devices/d2", {{"deviceId", "d2"}})->status == 200);
  check_result(hub.post("/devices", json::array({entry("d1", "deleteIfMatchETag", {{"eTag", d1["etag"]}}), entry("d2", "Delete")})),
               200, ok_result());
  check_error(hub.get("/devices/d1"), 404, "DeviceNotFound", 404001);
  check_error(hub.get("/devices/d2"), 404, "DeviceNotFound", 404001);
}

TEST_CASE("Bulk updateTwin and updateTwinIfMatchETag patch tags and desired properties", "[rest][bulk]") {
  rest_fixture hub;
  REQUIRE(hub.put("/devices/t1", {{"deviceId", "t1"}})->status == 200);
  REQUIRE(hub.put("/devices/t2", {{"deviceId", "t2"}})->status == 200);
  REQUIRE(hub.patch("/twins/t1", {{"tags", {{"keep", 1}}}})->status == 200);
  const auto twin2 = body_of(hub.get("/twins/t2"));
  check_result(hub.post("/devices", json::array({entry("t1", "updateTwin", {{"tags", {{"site", "A"}}}}),
                                                 entry("t2", "updateTwinIfMatchETag",
                                                       {{"twinETag", twin2["etag"]}, {"properties", {{"desired", {{"rate", 7}}}}}})})),
               200, ok_result());
  CHECK(body_of(hub.get("/twins/t1"))["tags"] == json{{"keep", 1}, {"site", "A"}});
  const auto after = body_of(hub.get("/twins/t2"));
  CHECK(after["properties"]["desired"]["rate"] == 7);
  CHECK(after["properties"]["desired"]["$version"] == 2);
}

TEST_CASE("A mixed bulk batch applies the good entries and answers 400 with each failure", "[rest][bulk]") {
  rest_fixture hub;
  for (const char* id : {"old", "gone", "keep", "noetag", "tw"}) REQUIRE(hub.put(std::string("/devices/") + id, {{"deviceId", id}})->status == 200);
  const auto old = body_of(hub.get("/devices/old"));
  const std::string gone_etag = body_of(hub.get("/devices/gone"))["etag"];
  const std::string tw_etag = body_of(hub.get("/twins/tw"))["etag"];
  const auto r = hub.post("/devices", json::array({
                                          entry("new1", "create"),
                                          entry("old", "create"),
                                          entry("missing", "delete"),
                                          entry("gone", "deleteIfMatchETag", {{"eTag", "stale"}}),
                                          entry("ghost", "updateTwin", {{"tags", {{"a", 1}}}}),
                                          entry("noetag", "updateIfMatchETag"),
                                          entry("bad/id", "create"),
                                          entry("tw", "updateTwinIfMatchETag", {{"twinETag", "stale"}}),
                                          entry("keep", "update", {{"status", "disabled"}}),
                                      }));
  check_result(r, 400,
               {{"isSuccessful", false},
                {"errors", json::array({
                               error_of("old", "DeviceAlreadyExists", "A device with ID 'old' is already registered."),
                               error_of("missing", "DeviceNotFound", "Device 'missing' is not registered in this hub."),
                               error_of("gone", "EtagDoesNotMatch", "The If-Match etag stale does not match device 'gone' (etag \"" + gone_etag + "\")."),
                               error_of("ghost", "DeviceNotFound", "Device 'ghost' is not registered in this hub."),
                               error_of("noetag", "ArgumentNull", "The importMode of the device 'noetag' needs its 'eTag'."),
                               error_of("bad/id", "ArgumentInvalid", "Device id 'bad/id' is not valid: only ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ ' are allowed."),
                               error_of("tw", "EtagDoesNotMatch", "The If-Match etag stale does not match the twin of 'tw' (etag \"" + tw_etag + "\")."),
                           })},
                {"warnings", json::array()}});
  // The good entries were applied; the failed ones changed nothing.
  CHECK(hub.get("/devices/new1")->status == 200);
  CHECK(body_of(hub.get("/devices/keep"))["status"] == "disabled");
  CHECK(body_of(hub.get("/devices/old")) == old);
  CHECK(hub.get("/devices/gone")->status == 200);
  CHECK_FALSE(body_of(hub.get("/twins/tw")).contains("tags"));
  CHECK(body_of(hub.get("/statistics/devices"))["totalDeviceCount"] == 6);
}

TEST_CASE("Bulk refusals of the whole call change nothing", "[rest][bulk]") {
  rest_fixture hub;
  const auto refused = [&](const json& body, int status, const std::string& name, int code, const std::string& phrase) {
    INFO(body.dump());
    check_error(hub.post("/devices", body), status, name, code, phrase);
    CHECK(body_of(hub.get("/statistics/devices"))["totalDeviceCount"] == 0);
  };
  json many = json::array();
  for (int i = 0; i < 101; ++i) many.push_back(entry("m" + std::to_string(i), "create"));
  refused(many, 413, "TooManyDevices", 413002, "A bulk registry operation takes at most 100 devices, not 101.");
  refused(json::array({entry("a", "create"), entry("dup", "create"), entry("DUP", "delete"), entry("dup", "update")}), 400,
          "DeviceDefinedMultipleTimes", 400011, "The device 'dup' is named more than once in the bulk registry operation.");
  refused({{"id", "a"}, {"importMode", "create"}}, 400, "ArgumentInvalid", 400004,
          "The bulk registry operation's body must be a JSON array of devices.");
  refused(json::array(), 400, "ArgumentInvalid", 400004, "The bulk registry operation needs at least one device.");
  refused(json::array({entry("a", "create"), 7}), 400, "ArgumentInvalid", 400004,
          "Entry 1 of the bulk registry operation is not an object.");
  refused(json::array({entry("a", "create"), {{"importMode", "create"}}}), 400, "ArgumentNull", 400005,
          "Entry 1 of the bulk registry operation has no id.");
  refused(json::array({{{"id", 5}, {"importMode", "create"}}}), 400, "ArgumentInvalid", 400004, "Entry 0's 'id' must be a string.");
  refused(json::array({entry("a", "create"), {{"id", "b"}}}), 400, "ArgumentNull", 400005, "The device 'b' has no importMode.");
  refused(json::array({entry("a", "create"), entry("b", "upsert")}), 400, "ArgumentInvalid", 400004,
          "The importMode 'upsert' of the device 'b' is not one of create, update, updateIfMatchETag, delete, "
          "deleteIfMatchETag, updateTwin, updateTwinIfMatchETag.");
  check_error(hub.post_empty("/devices"), 400, "ArgumentNull", 400005, "The bulk registry operation needs a body: an array of devices.");
}

TEST_CASE("Bulk registry needs RegistryWrite", "[rest][bulk]") {
  rest_fixture hub;
  const auto r = hub.client().Post(rest_fixture::with_api("/devices"), hub.auth({}, "registryRead"),
                                   json::array({entry("a", "create")}).dump(), "application/json; charset=utf-8");
  check_error(r, 401, "IotHubUnauthorizedAccess", 401002);
  CHECK(body_of(hub.get("/statistics/devices"))["totalDeviceCount"] == 0);
}

TEST_CASE("Exactly 100 devices in one bulk call are all created", "[rest][bulk]") {
  rest_fixture hub;
  json hundred = json::array();
  for (int i = 0; i < 100; ++i) hundred.push_back(entry("h" + std::to_string(i), "create"));
  check_result(hub.post("/devices", hundred), 200, ok_result());
  CHECK(body_of(hub.get("/statistics/devices"))["totalDeviceCount"] == 100);
}
