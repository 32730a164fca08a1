// Direct methods through the service library, answered by a real MQTT door lock.
#include <catch2/catch.hpp>

#include <future>

#include "service_fixture.hpp"

using namespace mockhub;
using namespace mockhub::service;
using nlohmann::json;
using namespace std::chrono_literals;
using test::hub_error_of;
using test::service_fixture;

TEST_CASE_METHOD(service_fixture, "lockDoor is invoked and the device's answer comes back", "[service][methods]") {
  auto lock = connect_lock("lock1", 43);
  const method_response r =
      client->invoke_method("lock1", {.method_name = "lockDoor", .payload = {{"lockTime", "10m"}}, .response_timeout = 15s});
  CHECK(r.status == 200);
  CHECK(r.payload == json{{"Response", "lockDoor called successfully"}});
  CHECK(lock->lock_requests() == std::vector<json>{{{"lockTime", "10m"}}});

  SECTION("the device's own error status is the answer, not an HTTP error") {
    const method_response other = client->invoke_method("lock1", {.method_name = "unlockDoor"});
    CHECK(other.status == 404);
    CHECK(other.payload == json{{"error", "no such method"}});
  }
}

TEST_CASE_METHOD(service_fixture, "Method failures carry the hub's error codes", "[service][methods][errors]") {
  SECTION("an unknown device is 404001") {
    const auto e = hub_error_of([&] { client->invoke_method("ghost", {.method_name = "lockDoor"}); });
    CHECK(e.error_code() == 404001);
    CHECK(e.error_name() == "DeviceNotFound");
  }
  SECTION("an offline device with connect timeout 0 is 404103 DeviceNotOnline at once") {
    register_device("offline");
    const auto e = hub_error_of([&] { client->invoke_method("offline", {.method_name = "lockDoor"}); });
    CHECK(e.http_status() == 404);
    CHECK(e.error_code() == 404103);
    CHECK(e.error_name() == "DeviceNotOnline");
  }
  SECTION("a response timeout out of range is 400004") {
    register_device("lock1");
    const auto e = hub_error_of([&] { client->invoke_method("lock1", {.method_name = "lockDoor", .response_timeout = 301s}); });
    CHECK(e.error_code() == 400004);
  }
  SECTION("an offline device given a connect timeout fails with 404103 once the hub's clock passes it") {
    register_device("offline");
    auto call = std::async(std::launch::async, [&] {
      return test::caught_hub_error([&] { client->invoke_method("offline", {.method_name = "lockDoor", .connect_timeout = 10s}); });
    });
    // The hub now waits for the device: its next timer is the connect timeout.
    REQUIRE(hub.wait_until([](core::hub& h) { return h.time().next_due() == h.time().now() + 10s; }));
    hub.advance(10s);
    REQUIRE(call.wait_for(30s) == std::future_status::ready);
    const auto e = call.get();
    REQUIRE(e);
    CHECK(e->error_code() == 404103);
    CHECK(e->message() == "Timed out waiting for device to connect.");
  }
  SECTION("a connected device that never answers is 504101 GatewayTimeout once the response timeout passes") {
    auto lock = connect_lock("silent", 43, 200, true);
    auto call = std::async(std::launch::async, [&] {
      return test::caught_hub_error([&] { client->invoke_method("silent", {.method_name = "lockDoor", .response_timeout = 5s}); });
    });
    REQUIRE(lock->wait_lock_requests(1));
    hub.advance(5s);
    REQUIRE(call.wait_for(30s) == std::future_status::ready);
    const auto e = call.get();
    REQUIRE(e);
    CHECK(e->http_status() == 504);
    CHECK(e->error_code() == 504101);
    CHECK(e->error_name() == "GatewayTimeout");
  }
}
