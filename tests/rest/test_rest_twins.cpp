// Twins over REST: Devices_GetTwin, Devices_UpdateTwin (PATCH), Devices_ReplaceTwin (PUT).
#include "rest_fixture.hpp"

using mockhub::test::body_of;
using mockhub::test::check_error;
using mockhub::test::rest_fixture;
using nlohmann::json;

TEST_CASE("Twin GET returns the twin with its quoted etag in the ETag header", "[rest][twin]") {
  rest_fixture hub;
  hub.add_device("dev1");
  const auto r = hub.get("/twins/dev1");
  REQUIRE(r);
  CHECK(r->status == 200);
  const auto twin = body_of(r);
  CHECK(twin["deviceId"] == "dev1");
  CHECK(twin["etag"] == "AAAAAAAAAAE=");
  CHECK(twin["version"] == 2);
  CHECK(r->get_header_value("ETag") == "\"AAAAAAAAAAE=\"");
  check_error(hub.get("/twins/nobody"), 404, "DeviceNotFound", 404001);
}

TEST_CASE("Twin PATCH merges tags and desired, honours If-Match, and notifies the connected device", "[rest][twin]") {
  rest_fixture hub;
  hub.add_device("dev1", true);
  const json patch = {{"tags", {{"site", "lab"}}}, {"properties", {{"desired", {{"lockMode", "manual"}}}}}};

  SECTION("matching etag") {
    const auto r = hub.patch("/twins/dev1", patch, {{"If-Match", "\"AAAAAAAAAAE=\""}});
    REQUIRE(r);
    CHECK(r->status == 200);
    const auto twin = body_of(r);
    CHECK(twin["tags"]["site"] == "lab");
    CHECK(twin["properties"]["desired"]["lockMode"] == "manual");
    CHECK(twin["etag"] == "AAAAAAAAAAI=");
    CHECK(r->get_header_value("ETag") == "\"AAAAAAAAAAI=\"");
    const auto notified = hub.devices().desired_patches();
    REQUIRE(notified.size() == 1);
    CHECK(notified[0]["lockMode"] == "manual");
  }
  SECTION("no If-Match, and a quoted *") {
    CHECK(hub.patch("/twins/dev1", patch)->status == 200);
    CHECK(hub.patch("/twins/dev1", {{"tags", {{"floor", 2}}}}, {{"If-Match", "\"*\""}})->status == 200);
    CHECK(body_of(hub.get("/twins/dev1"))["tags"] == json{{"site", "lab"}, {"floor", 2}});
  }
  SECTION("stale etag") {
    check_error(hub.patch("/twins/dev1", patch, {{"If-Match", "\"AAAAAAAAAAk=\""}}), 412, "PreconditionFailed", 412001);
  }
  SECTION("reported properties cannot be written by the back end") {
    check_error(hub.patch("/twins/dev1", {{"properties", {{"reported", {{"x", 1}}}}}}), 400, "ArgumentInvalid", 400004);
  }
  SECTION("a body that is not an object") {
    check_error(hub.patch("/twins/dev1", json::array({1, 2})), 400, "ArgumentInvalid", 400004, "JSON object");
  }
  SECTION("unknown device") {
    check_error(hub.patch("/twins/nobody", patch), 404, "DeviceNotFound", 404001);
  }
}

TEST_CASE("Twin PUT replaces tags and desired", "[rest][twin]") {
  rest_fixture hub;
  hub.add_device("dev1");
  hub.patch("/twins/dev1", {{"tags", {{"a", 1}, {"b", 2}}}});
  const auto r = hub.put("/twins/dev1", {{"tags", {{"c", 3}}}, {"properties", {{"desired", {{"d", 4}}}}}},
                         {{"If-Match", "\"AAAAAAAAAAI=\""}});
  REQUIRE(r);
  CHECK(r->status == 200);
  const auto twin = body_of(r);
  CHECK(twin["tags"] == json{{"c", 3}});
  CHECK(twin["properties"]["desired"]["d"] == 4);
  CHECK(r->get_header_value("ETag") == "\"" + twin["etag"].get<std::string>() + "\"");
  check_error(hub.put("/twins/dev1", {{"tags", {{"c", 3}}}}, {{"If-Match", "\"AAAAAAAAAAI=\""}}), 412, "PreconditionFailed", 412001);
  check_error(hub.put("/twins/nobody", {{"tags", json::object()}}), 404, "DeviceNotFound", 404001);
}
