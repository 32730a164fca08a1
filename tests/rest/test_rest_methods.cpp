// Devices_InvokeMethod over REST: the HTTP thread waits (bounded) for the outcome the core
// reports on the executor; time passes only when the test moves the virtual clock.
#include "rest_fixture.hpp"

#include <future>

using mockhub::test::body_of;
using mockhub::test::check_error;
using mockhub::test::rest_fixture;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {
json lock_door(int response_timeout = 30, int connect_timeout = 0) {
  return {{"methodName", "lockDoor"},
          {"payload", {{"door", "front"}}},
          {"responseTimeoutInSeconds", response_timeout},
          {"connectTimeoutInSeconds", connect_timeout}};
}
}  // namespace

TEST_CASE("A device that answers gives 200 with its status and payload", "[rest][methods]") {
  rest_fixture hub;
  hub.add_device("dev1", true);
  SECTION("success") {
    hub.devices().answer_with("dev1", {200, R"({"locked":true})"});
    const auto r = hub.post("/twins/dev1/methods", lock_door());
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(body_of(r) == json{{"status", 200}, {"payload", {{"locked", true}}}});
    const auto calls = hub.devices().wait_for_calls(1);
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method_name == "lockDoor");
    CHECK(calls[0].payload == json{{"door", "front"}});
  }
  SECTION("the device's own error status is still HTTP 200") {
    hub.devices().answer_with("dev1", {500, R"({"error":"jammed"})"});
    const auto r = hub.post("/twins/dev1/methods", lock_door());
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(body_of(r) == json{{"status", 500}, {"payload", {{"error", "jammed"}}}});
  }
}

TEST_CASE("Hub failures of a method call: offline, unknown, timed out, invalid", "[rest][methods]") {
  rest_fixture hub;
  SECTION("offline device with connect timeout 0 is 404103 at once") {
    hub.add_device("dev1");
    check_error(hub.post("/twins/dev1/methods", lock_door()), 404, "DeviceNotOnline", 404103);
  }
  SECTION("unknown device is 404001") {
    check_error(hub.post("/twins/nobody/methods", lock_door()), 404, "DeviceNotFound", 404001);
  }
  SECTION("a silent device times out with 504101 when the clock passes the response timeout") {
    hub.add_device("dev1", true);
    auto call = std::async(std::launch::async, [&] { return hub.post("/twins/dev1/methods", lock_door(15)); });
    REQUIRE(hub.devices().wait_for_calls(1).size() == 1);
    hub.advance(14s);
    CHECK(call.wait_for(0s) == std::future_status::timeout);
    hub.advance(1s);
    check_error(call.get(), 504, "GatewayTimeout", 504101, "Timed out waiting for the response from device");
  }
  SECTION("a device that connects within the connect timeout is called") {
    hub.add_device("dev1");
    hub.devices().answer_with("dev1", {200, "{}"});
    auto call = std::async(std::launch::async, [&] { return hub.post("/twins/dev1/methods", lock_door(30, 60)); });
    // The request is parked on the hub until the device connects (no request reached it yet).
    hub.advance(10s);
    hub.connect("dev1");
    const auto r = call.get();
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  SECTION("a device that never connects fails with 404103 after the connect timeout") {
    hub.add_device("dev1");
    auto call = std::async(std::launch::async, [&] { return hub.post("/twins/dev1/methods", lock_door(30, 20)); });
    // The call may reach the hub after a clock move: move again until it has failed.
    for (int i = 0; i < 600 && call.wait_for(50ms) != std::future_status::ready; ++i) hub.advance(20s);
    check_error(call.get(), 404, "DeviceNotOnline", 404103);
  }
  SECTION("validation: missing name, timeouts out of range, payload too large, body not an object") {
    hub.add_device("dev1", true);
    check_error(hub.post("/twins/dev1/methods", {{"payload", 1}}), 400, "ArgumentNull", 400005);
    check_error(hub.post("/twins/dev1/methods", lock_door(4)), 400, "ArgumentInvalid", 400004, "responseTimeoutInSeconds");
    check_error(hub.post("/twins/dev1/methods", lock_door(30, 301)), 400, "ArgumentInvalid", 400004, "connectTimeoutInSeconds");
    check_error(hub.post("/twins/dev1/methods", {{"methodName", "big"}, {"payload", std::string(130 * 1024, 'x')}}), 413,
                "MessageTooLarge", 413001);
    check_error(hub.post("/twins/dev1/methods", "lockDoor"), 400, "ArgumentInvalid", 400004, "JSON object");
  }
}

TEST_CASE("The HTTP wait is bounded in real time: a stuck clock ends in 504, a stopping server in 503", "[rest][methods]") {
  SECTION("bound passes while the virtual clock stands still") {
    rest_fixture hub({.method_wait_margin = 0s});
    hub.add_device("dev1", true);
    // responseTimeout 5 s, connect 0, margin 0: the HTTP thread gives up after 5 real seconds.
    check_error(hub.post("/twins/dev1/methods", lock_door(5)), 504, "GatewayTimeout", 504101);
  }
  SECTION("stop() ends the wait") {
    rest_fixture hub;
    hub.add_device("dev1", true);
    auto call = std::async(std::launch::async, [&] { return hub.post("/twins/dev1/methods", lock_door(300)); });
    REQUIRE(hub.devices().wait_for_calls(1).size() == 1);
    hub.stop_server();
    check_error(call.get(), 503, "ServiceUnavailable", 503001, "shutting down");
  }
}
