// The identity registry and statistics over REST: Devices_CreateOrUpdateIdentity,
// Devices_GetIdentity, Devices_DeleteIdentity, Devices_GetDevices, Statistics_*, and the
// cloud-to-device purge.
#include "rest_fixture.hpp"

#include "mock_hub/core/encoding.hpp"

using mockhub::test::body_of;
using mockhub::test::check_error;
using mockhub::test::rest_fixture;
using nlohmann::json;

namespace {
std::string quoted(const std::string& s) { return "\"" + s + "\""; }
}  // namespace

TEST_CASE("Device PUT creates with 200, generated keys and a quoted ETag; GET returns it", "[rest][registry]") {
  rest_fixture hub;
  const auto created = hub.put("/devices/dev1", {{"deviceId", "dev1"},
                                                 {"authentication", {{"type", "sas"}, {"symmetricKey", {{"primaryKey", ""}, {"secondaryKey", ""}}}}}});
  REQUIRE(created);
  CHECK(created->status == 200);
  CHECK(created->get_header_value("Content-Type") == "application/json; charset=utf-8");
  CHECK_FALSE(created->get_header_value("x-ms-request-id").empty());
  const auto device = body_of(created);
  CHECK(device["deviceId"] == "dev1");
  CHECK(device["status"] == "enabled");
  CHECK(device["connectionState"] == "Disconnected");
  CHECK(device["authentication"]["symmetricKey"]["primaryKey"].get<std::string>().size() == 44);
  CHECK(created->get_header_value("ETag") == quoted(device["etag"]));

  const auto got = hub.get("/devices/dev1");
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(body_of(got) == device);
  CHECK(got->get_header_value("ETag") == quoted(device["etag"]));
}

TEST_CASE("Device PUT refusals: 409 on an existing id, 412 on a stale If-Match, 404 updating a missing device, 400 on bad members",
          "[rest][registry]") {
  rest_fixture hub;
  const auto first = body_of(hub.put("/devices/dev1", {{"deviceId", "dev1"}}));

  SECTION("create again without If-Match") {
    check_error(hub.put("/devices/dev1", {{"deviceId", "dev1"}}), 409, "DeviceAlreadyExists", 409001, "dev1");
  }
  SECTION("update with a stale etag") {
    check_error(hub.put("/devices/dev1", {{"deviceId", "dev1"}, {"status", "disabled"}}, {{"If-Match", "\"c3RhbGU=\""}}), 412,
                "PreconditionFailed", 412001);
  }
  SECTION("update with the current etag, then with *") {
    const auto updated = hub.put("/devices/dev1", {{"deviceId", "dev1"}, {"status", "disabled"}},
                                 {{"If-Match", quoted(first["etag"])}});
    REQUIRE(updated);
    CHECK(updated->status == 200);
    CHECK(body_of(updated)["status"] == "disabled");
    const auto forced = hub.put("/devices/dev1", {{"deviceId", "dev1"}, {"status", "enabled"}}, {{"If-Match", "\"*\""}});
    CHECK(body_of(forced)["status"] == "enabled");
  }
  SECTION("update of a device that does not exist") {
    check_error(hub.put("/devices/nobody", {{"deviceId", "nobody"}}, {{"If-Match", "\"*\""}}), 404, "DeviceNotFound", 404001);
  }
  SECTION("body deviceId differs from the path") {
    check_error(hub.put("/devices/dev2", {{"deviceId", "other"}}), 400, "ArgumentInvalid", 400004);
  }
  SECTION("a member of the wrong type") {
    check_error(hub.put("/devices/dev2", {{"deviceId", "dev2"}, {"status", 3}}), 400, "ArgumentInvalid", 400004, "status");
  }
  SECTION("an invalid device id") {
    check_error(hub.put("/devices/bad%20id", {{"deviceId", "bad id"}}), 400, "ArgumentInvalid", 400004);
  }
}

TEST_CASE("Device DELETE answers 204 with no body; 404 for a missing device; 412 on a stale If-Match", "[rest][registry]") {
  rest_fixture hub;
  hub.add_device("dev1");
  check_error(hub.del("/devices/dev1", {{"If-Match", "\"c3RhbGU=\""}}), 412, "PreconditionFailed", 412001);
  const auto deleted = hub.del("/devices/dev1", {{"If-Match", "\"*\""}});
  REQUIRE(deleted);
  CHECK(deleted->status == 204);
  CHECK(deleted->body.empty());
  CHECK_FALSE(deleted->get_header_value("x-ms-request-id").empty());
  check_error(hub.get("/devices/dev1"), 404, "DeviceNotFound", 404001, "dev1");
  check_error(hub.del("/devices/dev1"), 404, "DeviceNotFound", 404001);
}

TEST_CASE("Path ids are percent-decoded: ids with %, #, ?, + and other allowed characters round-trip", "[rest][registry]") {
  rest_fixture hub;
  const std::string id = "a%b#c?d+e:f.g=h@i;j$k'l(m)n,o!p*q_r-s";
  const std::string encoded = mockhub::core::url_encode(id);
  const auto created = hub.put("/devices/" + encoded, {{"deviceId", id}});
  REQUIRE(created);
  CHECK(created->status == 200);
  CHECK(body_of(created)["deviceId"] == id);
  CHECK(body_of(hub.get("/devices/" + encoded))["deviceId"] == id);
  CHECK(body_of(hub.get("/twins/" + encoded))["deviceId"] == id);
  SECTION("a plus in the path is a plus, not a space") {
    hub.add_device("x+y");
    CHECK(body_of(hub.get("/devices/x+y"))["deviceId"] == "x+y");
  }
  SECTION("a malformed escape is 400") {
    check_error(hub.get("/devices/bad%zz"), 400, "ArgumentInvalid", 400004, "percent");
  }
}

TEST_CASE("Devices_GetDevices lists identities in id order, honours top, refuses a non-number", "[rest][registry]") {
  rest_fixture hub;
  for (const auto* id : {"c", "a", "b"}) hub.add_device(id);
  const auto all = body_of(hub.get("/devices"));
  REQUIRE(all.is_array());
  REQUIRE(all.size() == 3);
  CHECK(all[0]["deviceId"] == "a");
  CHECK(all[2]["deviceId"] == "c");
  CHECK(body_of(hub.get("/devices?top=2")).size() == 2);
  CHECK(body_of(hub.get("/devices?top=0")).size() == 3);  // outside 1..1000 means 1000
  CHECK(body_of(hub.get("/devices/")) == all);  // azure-iothub's Registry.list adds a slash
  check_error(hub.get("/devices?top=many"), 400, "ArgumentInvalid", 400004, "top");
}

TEST_CASE("Statistics: device counts and connected devices", "[rest][registry]") {
  rest_fixture hub;
  hub.add_device("on", true);
  hub.add_device("off");
  hub.put("/devices/off", {{"deviceId", "off"}, {"status", "disabled"}}, {{"If-Match", "\"*\""}});
  const auto devices = hub.get("/statistics/devices");
  REQUIRE(devices);
  CHECK(devices->status == 200);
  CHECK(body_of(devices) == json{{"totalDeviceCount", 2}, {"enabledDeviceCount", 1}, {"disabledDeviceCount", 1}});
  CHECK(body_of(hub.get("/statistics/service")) == json{{"connectedDeviceCount", 1}});
}

TEST_CASE("Purging the cloud-to-device queue answers 200 with the count; 404 for a missing device", "[rest][registry]") {
  rest_fixture hub;
  hub.add_device("dev1");
  hub.on_hub([](mockhub::core::hub& h) {
    for (int i = 0; i < 3; ++i) {
      mockhub::core::cloud_to_device_message m;
      m.body = "hello";
      h.send_cloud_to_device_message("dev1", m);
    }
    return 0;
  });
  const auto purged = hub.del("/devices/dev1/commands");
  REQUIRE(purged);
  CHECK(purged->status == 200);
  CHECK(body_of(purged) == json{{"totalMessagesPurged", 3}, {"deviceId", "dev1"}, {"moduleId", nullptr}});
  CHECK(body_of(hub.del("/devices/dev1/commands"))["totalMessagesPurged"] == 0);
  check_error(hub.del("/devices/nobody/commands"), 404, "DeviceNotFound", 404001);
}
