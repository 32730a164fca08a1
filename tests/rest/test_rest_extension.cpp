// mockhub's REST extension (docs/rest-extension.md): reset, a device's telemetry, sending a
// cloud-to-device message, fault injection, and the clock; with their refusals.
#include "rest_fixture.hpp"

#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/time_format.hpp"

using mockhub::test::body_of;
using mockhub::test::check_error;
using mockhub::test::rest_fixture;
using mockhub::test::twin_job;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A telemetry message as the broker link hands it to the hub.
void send_telemetry(rest_fixture& hub, const std::string& device_id, const std::string& body,
                    mockhub::core::application_properties properties = {}, std::optional<std::string> message_id = {}) {
  hub.on_hub([&](mockhub::core::hub& h) {
    mockhub::core::device_to_cloud_message m;
    m.device_id = device_id;
    m.body = body;
    m.application = std::move(properties);
    m.system.message_id = std::move(message_id);
    m.system.content_type = "application/json";
    return h.device_sent_telemetry(std::move(m));
  });
}

httplib::Result post_without_version(rest_fixture& hub, const std::string& path, const json& body) {
  return hub.client().Post(path, hub.auth(), body.dump(), "application/json");
}

}  // namespace

TEST_CASE("Extension: reset deletes devices, twins, messages and jobs, keeps policies and the clock", "[rest][extension]") {
  rest_fixture hub({.max_concurrent_jobs = 10});
  hub.add_device("dev1", true);
  hub.add_device("dev2");
  send_telemetry(hub, "dev1", "{}");
  CHECK(hub.post("/_mockhub/devices/dev2/messages/devicebound", {{"body", "hello"}})->status == 200);
  CHECK(hub.put("/jobs/v2/later", twin_job("later", "2026-01-01T01:00:00Z"))->status == 200);
  const auto owner_key = hub.on_hub([](mockhub::core::hub& h) { return h.policies().find("iothubowner")->primary_key; });
  const auto before = hub.now();

  const auto reset = hub.post_empty("/_mockhub/reset");
  REQUIRE(reset);
  CHECK(reset->status == 204);
  CHECK(reset->body.empty());

  CHECK(body_of(hub.get("/devices")) == json::array());
  check_error(hub.get("/twins/dev1"), 404, "DeviceNotFound", 404001, "dev1");
  check_error(hub.get("/jobs/v2/later"), 404, "JobNotFound", 404002);
  CHECK(body_of(hub.get("/jobs/v2/query")) == json::array());
  CHECK(hub.devices().disconnects() == std::vector<std::string>{"dev1"});  // only the connected one
  CHECK(hub.now() == before);
  CHECK(hub.on_hub([](mockhub::core::hub& h) { return h.policies().find("iothubowner")->primary_key; }) == owner_key);

  // The hub is usable as new: the same ids again, and the old job's timers are gone.
  hub.add_device("dev1");
  CHECK(body_of(hub.get("/devices/dev1"))["cloudToDeviceMessageCount"] == 0);
  CHECK(body_of(hub.get("/_mockhub/devices/dev1/messages/events")) == json::array());
  CHECK(hub.put("/jobs/v2/later", twin_job("later", "2026-01-01T05:00:00Z"))->status == 200);
  hub.advance(2h);  // past the old job's start and any timer it left
  CHECK(body_of(hub.get("/jobs/v2/later"))["status"] == "scheduled");
  CHECK_FALSE(body_of(hub.get("/twins/dev1"))["tags"].contains("fleet"));
}

TEST_CASE("Extension: same SAS auth as the service API, each route with its permission", "[rest][extension][auth]") {
  rest_fixture hub;
  hub.add_device("dev1");
  SECTION("no Authorization header") {
    check_error(hub.client().Post("/_mockhub/reset", "", "application/json"), 401, "IotHubUnauthorizedAccess", 401002,
                "Authorization header missing");
    check_error(hub.client().Get("/_mockhub/clock"), 401, "IotHubUnauthorizedAccess", 401002);
    check_error(hub.client().Get("/_mockhub/devices/dev1/messages/events"), 401, "IotHubUnauthorizedAccess", 401002);
  }
  SECTION("reset needs RegistryWrite: the service policy is refused, registryReadWrite allowed") {
    check_error(hub.client().Post("/_mockhub/reset", hub.auth({}, "service"), "", "application/json"), 401,
                "IotHubUnauthorizedAccess", 401002);
    check_error(hub.client().Post("/_mockhub/reset", hub.auth({}, "registryRead"), "", "application/json"), 401,
                "IotHubUnauthorizedAccess", 401002);
    CHECK(hub.client().Post("/_mockhub/reset", hub.auth({}, "registryReadWrite"), "", "application/json")->status == 204);
  }
  SECTION("the others need ServiceConnect: registryReadWrite is refused, service allowed") {
    check_error(hub.client().Get("/_mockhub/clock", hub.auth({}, "registryReadWrite")), 401, "IotHubUnauthorizedAccess", 401002);
    check_error(hub.client().Post("/_mockhub/devices/dev1/faults", hub.auth({}, "registryReadWrite"),
                                  R"({"type":"disconnect"})", "application/json"),
                401, "IotHubUnauthorizedAccess", 401002);
    CHECK(hub.client().Get("/_mockhub/clock", hub.auth({}, "service"))->status == 200);
    CHECK(hub.client().Get("/_mockhub/devices/dev1/messages/events", hub.auth({}, "service"))->status == 200);
  }
}

TEST_CASE("Extension: api-version is optional, unknown extension paths 404, wrong methods 405", "[rest][extension]") {
  rest_fixture hub;
  CHECK(hub.client().Get("/_mockhub/clock", hub.auth())->status == 200);
  CHECK(hub.get("/_mockhub/clock")->status == 200);  // 2021-04-12 given
  CHECK(hub.client().Get("/_mockhub/clock?api-version=2018-06-30", hub.auth())->status == 200);
  check_error(hub.get("/_mockhub/nothing"), 404, "GenericNotFound", 404000, "/_mockhub/nothing");
  const auto wrong = hub.client().Get("/_mockhub/reset", hub.auth());
  check_error(wrong, 405, "MethodNotAllowed", 405000);
  CHECK(wrong->get_header_value("Allow") == "POST");
}

TEST_CASE("Extension: a device's telemetry, oldest first, text or base64, with properties and since", "[rest][extension]") {
  rest_fixture hub;
  hub.add_device("dev1");
  hub.add_device("dev2");
  send_telemetry(hub, "dev1", R"({"temp":21})", {{"alert", "no"}, {"flag", std::nullopt}}, "m1");
  hub.advance(1s);
  send_telemetry(hub, "dev1", std::string("\xff\x00\x01", 3));
  send_telemetry(hub, "dev2", "other");

  const auto r = hub.client().Get("/_mockhub/devices/dev1/messages/events", hub.auth());
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "application/json; charset=utf-8");
  const auto events = body_of(r);
  REQUIRE(events.size() == 2);
  CHECK(events[0] == json{{"body", R"({"temp":21})"},
                          {"bodyEncoding", "utf-8"},
                          {"properties", {{"alert", "no"}, {"flag", nullptr}}},
                          {"systemProperties", {{"messageId", "m1"}, {"contentType", "application/json"}}},
                          {"enqueuedTimeUtc", "2026-01-01T00:00:00.0000000Z"}});
  CHECK(events[1]["body"] == mockhub::core::base64_encode(std::string("\xff\x00\x01", 3)));
  CHECK(events[1]["body"] == "/wAB");
  CHECK(events[1]["bodyEncoding"] == "base64");
  CHECK(events[1]["enqueuedTimeUtc"] == "2026-01-01T00:00:01.0000000Z");

  SECTION("since: only later messages") {
    const auto later = body_of(hub.get("/_mockhub/devices/dev1/messages/events?since=2026-01-01T00:00:00.0000000Z"));
    REQUIRE(later.size() == 1);
    CHECK(later[0]["bodyEncoding"] == "base64");
    CHECK(body_of(hub.get("/_mockhub/devices/dev1/messages/events?since=2026-01-01T00:00:01Z")) == json::array());
  }
  SECTION("a since that is not a time") {
    check_error(hub.get("/_mockhub/devices/dev1/messages/events?since=yesterday"), 400, "ArgumentInvalid", 400004,
                "'yesterday'");
  }
  SECTION("an unknown device") {
    check_error(hub.get("/_mockhub/devices/ghost/messages/events"), 404, "DeviceNotFound", 404001, "ghost");
  }
  SECTION("a device without telemetry") {
    CHECK(body_of(hub.get("/_mockhub/devices/dev2/messages/events")).size() == 1);
    hub.add_device("dev3");
    CHECK(body_of(hub.get("/_mockhub/devices/dev3/messages/events")) == json::array());
  }
}

TEST_CASE("Extension: a cloud-to-device message is queued and delivered as the hub's own", "[rest][extension]") {
  rest_fixture hub;
  hub.add_device("dev1");

  SECTION("queued for an offline device, with a generated id and the default expiry") {
    const auto r = post_without_version(hub, "/_mockhub/devices/dev1/messages/devicebound", {{"body", "unlock"}});
    REQUIRE(r);
    CHECK(r->status == 200);
    const auto id = body_of(r)["messageId"].get<std::string>();
    CHECK(id.size() == 32);
    CHECK(body_of(hub.get("/devices/dev1"))["cloudToDeviceMessageCount"] == 1);
    hub.connect("dev1");
    hub.subscribe_cloud_to_device("dev1");
    const auto delivered = hub.devices().cloud_to_device();
    REQUIRE(delivered.size() == 1);
    CHECK(delivered[0].first == "dev1");
    CHECK(delivered[0].second.body == "unlock");
    CHECK(delivered[0].second.message_id == id);
    CHECK(delivered[0].second.to == "/devices/dev1/messages/devicebound");
    CHECK(delivered[0].second.expiry == hub.now() + 1h);
    CHECK(body_of(hub.get("/devices/dev1"))["cloudToDeviceMessageCount"] == 0);
  }
  SECTION("every member reaches the device; base64 bodies are decoded") {
    hub.connect("dev1");
    hub.subscribe_cloud_to_device("dev1");
    const auto r = hub.post("/_mockhub/devices/dev1/messages/devicebound",
                            {{"body", "/wAB"},
                             {"bodyEncoding", "base64"},
                             {"properties", {{"door", "front"}, {"empty", nullptr}}},
                             {"messageId", "msg-1"},
                             {"correlationId", "corr-1"},
                             {"expiryTimeUtc", "2026-01-01T00:10:00Z"},
                             {"ack", "full"}});
    CHECK(body_of(r) == json{{"messageId", "msg-1"}});
    const auto delivered = hub.devices().cloud_to_device();
    REQUIRE(delivered.size() == 1);
    const auto& m = delivered[0].second;
    CHECK(m.body == std::string("\xff\x00\x01", 3));
    CHECK(m.application == mockhub::core::application_properties{{"door", "front"}, {"empty", std::nullopt}});
    CHECK(m.correlation_id == "corr-1");
    CHECK(m.ack == "full");
    CHECK(m.expiry == mockhub::core::parse_time("2026-01-01T00:10:00Z"));
  }
  SECTION("the core's limits: 50 waiting, then 403004") {
    for (int i = 0; i < 50; ++i) REQUIRE(hub.post("/_mockhub/devices/dev1/messages/devicebound", {{"body", "x"}})->status == 200);
    check_error(hub.post("/_mockhub/devices/dev1/messages/devicebound", {{"body", "x"}}), 403,
                "DeviceMaximumQueueDepthExceeded", 403004, "dev1");
  }
  SECTION("over 64 KB: 413001") {
    check_error(hub.post("/_mockhub/devices/dev1/messages/devicebound", {{"body", std::string(65537, 'a')}}), 413,
                "MessageTooLarge", 413001);
  }
  SECTION("refusals") {
    const std::string path = "/_mockhub/devices/dev1/messages/devicebound";
    check_error(hub.post("/_mockhub/devices/ghost/messages/devicebound", {{"body", "x"}}), 404, "DeviceNotFound", 404001, "ghost");
    check_error(hub.post_empty(path), 400, "ArgumentNull", 400005);
    check_error(hub.post(path, json::array()), 400, "ArgumentInvalid", 400004);
    check_error(hub.post(path, {{"messageId", "m"}}), 400, "ArgumentNull", 400005, "'body'");
    check_error(hub.post(path, {{"body", 5}}), 400, "ArgumentInvalid", 400004, "'body' must be a string");
    check_error(hub.post(path, {{"body", "x"}, {"bodyEncoding", "hex"}}), 400, "ArgumentInvalid", 400004, "'hex'");
    check_error(hub.post(path, {{"body", "not base64!"}, {"bodyEncoding", "base64"}}), 400, "ArgumentInvalid", 400004,
                "not valid base64");
    check_error(hub.post(path, {{"body", "x"}, {"ack", "sometimes"}}), 400, "ArgumentInvalid", 400004, "'sometimes'");
    check_error(hub.post(path, {{"body", "x"}, {"expiryTimeUtc", "soon"}}), 400, "ArgumentInvalid", 400004, "'soon'");
    check_error(hub.post(path, {{"body", "x"}, {"properties", {{"n", 1}}}}), 400, "ArgumentInvalid", 400004, "'n'");
    check_error(hub.post(path, {{"body", "x"}, {"properties", "a=b"}}), 400, "ArgumentInvalid", 400004, "'properties'");
    check_error(hub.post(path, {{"body", "x"}, {"lockToken", "t"}}), 400, "ArgumentInvalid", 400004, "'lockToken'");
    CHECK(body_of(hub.get("/devices/dev1"))["cloudToDeviceMessageCount"] == 0);
  }
}

TEST_CASE("Extension: a disconnect fault ends the device's connection", "[rest][extension]") {
  rest_fixture hub;
  hub.add_device("dev1", true);
  hub.add_device("dev2");

  const auto r = hub.post("/_mockhub/devices/dev1/faults", {{"type", "disconnect"}});
  REQUIRE(r);
  CHECK(r->status == 204);
  CHECK(hub.devices().disconnects() == std::vector<std::string>{"dev1"});
  CHECK(hub.post("/_mockhub/devices/dev2/faults", {{"type", "disconnect"}})->status == 204);  // offline: nothing to end

  check_error(hub.post("/_mockhub/devices/ghost/faults", {{"type", "disconnect"}}), 404, "DeviceNotFound", 404001, "ghost");
  check_error(hub.post("/_mockhub/devices/dev1/faults", {{"type", "latency"}}), 400, "ArgumentInvalid", 400004,
              "'latency' is not one mockhub injects (accepted types: disconnect).");
  check_error(hub.post("/_mockhub/devices/dev1/faults", json::object()), 400, "ArgumentInvalid", 400004,
              "accepted types: disconnect");
  check_error(hub.post_empty("/_mockhub/devices/dev1/faults"), 400, "ArgumentNull", 400005);
  CHECK(hub.devices().disconnects() == std::vector<std::string>{"dev1", "dev2"});
}

TEST_CASE("Extension: the clock on a virtual-clock hub reads and advances", "[rest][extension][clock]") {
  rest_fixture hub({.max_concurrent_jobs = 10, .clock_control = true});
  hub.add_device("dev1");
  CHECK(body_of(hub.get("/_mockhub/clock")) == json{{"now", "2026-01-01T00:00:00.0000000Z"}, {"virtual", true}});
  CHECK(hub.put("/jobs/v2/soon", twin_job("soon", "2026-01-01T00:00:30Z"))->status == 200);

  const auto moved = hub.post("/_mockhub/clock/advance", {{"seconds", 30.5}});
  REQUIRE(moved);
  CHECK(moved->status == 200);
  CHECK(body_of(moved) == json{{"now", "2026-01-01T00:00:30.5000000Z"}});
  // What became due has run when the answer arrives: the job started and updated the twin.
  CHECK(body_of(hub.get("/jobs/v2/soon"))["status"] == "completed");
  CHECK(body_of(hub.get("/twins/dev1"))["tags"]["fleet"] == "A");
  CHECK(body_of(post_without_version(hub, "/_mockhub/clock/advance", {{"seconds", 0}})) ==
        json{{"now", "2026-01-01T00:00:30.5000000Z"}});

  SECTION("refusals") {
    check_error(hub.post("/_mockhub/clock/advance", {{"seconds", -1}}), 400, "ArgumentInvalid", 400004, "from 0 to");
    check_error(hub.post("/_mockhub/clock/advance", {{"seconds", "10"}}), 400, "ArgumentInvalid", 400004, "must be a number");
    check_error(hub.post("/_mockhub/clock/advance", {{"seconds", 1e300}}), 400, "ArgumentInvalid", 400004, "from 0 to");
    check_error(hub.post("/_mockhub/clock/advance", json::object()), 400, "ArgumentNull", 400005, "'seconds'");
    check_error(hub.post_empty("/_mockhub/clock/advance"), 400, "ArgumentNull", 400005);
    CHECK(body_of(hub.get("/_mockhub/clock"))["now"] == "2026-01-01T00:00:30.5000000Z");
  }
}

TEST_CASE("Extension: a system-clock hub reports its clock and refuses to advance it", "[rest][extension][clock]") {
  rest_fixture hub;  // no advance_clock callback: what hub_runtime gives a system-clock hub
  CHECK(body_of(hub.get("/_mockhub/clock")) == json{{"now", "2026-01-01T00:00:00.0000000Z"}, {"virtual", false}});
  check_error(hub.post("/_mockhub/clock/advance", {{"seconds", 1}}), 400, "ArgumentInvalid", 400004,
              "the hub runs on the system clock, start it with a virtual clock");  // ';' goes out as ','
  CHECK(hub.now() == mockhub::core::virtual_clock::default_start());
}
