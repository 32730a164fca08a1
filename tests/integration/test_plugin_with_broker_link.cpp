// The plugin against the hub's real broker link (hub_runtime): the two sides of the contract,
// written separately, must agree on topics and payloads.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "mock_hub/core/hub.hpp"
#include "mock_hub/core/sas_token.hpp"
#include "mock_hub/server/hub_runtime.hpp"
#include "plugin_fixture.hpp"

using namespace mockhub::test;
using nlohmann::json;

namespace {

/// Connects `device` as dev1. The link pushes a new identity to the plugin without waiting for
/// it to arrive, so the first attempts may come before it (CONNACK 5); bounded retries.
std::unique_ptr<plugin_mqtt_client> connect_dev1(mockhub::server::hub_runtime& hub, const std::string& token) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto device = std::make_unique<plugin_mqtt_client>("dev1");
    const int rc = device->connect(hub.mqtt_port(), "localhost/dev1/?api-version=2021-04-12", token);
    if (rc == 0) return device;
    REQUIRE(rc == 5);
  }
  FAIL("dev1 was never admitted");
  return nullptr;
}

}  // namespace

TEST_CASE("The hub's broker link and the plugin agree: twin GET, reported PATCH, SAS expiry",
          "[integration][plugin][link]") {
  mockhub::server::hub_runtime hub({.tls = false, .virtual_time = true, .seed = 7});
  hub.start();
  hub.call([](mockhub::core::hub& h) {
    mockhub::core::device_identity_request request;
    request.device_id = "dev1";
    request.primary_key = capture_key;
    request.secondary_key = other_key;
    return h.create_or_update_identity("dev1", request, std::nullopt).device_id;
  });
  // The virtual clock starts at 2026-01-01; the token expires an hour later.
  const std::int64_t se = pinned_now + 3600;
  auto device = connect_dev1(hub, mockhub::core::sas_token::create("localhost/devices/dev1", capture_key, se));

  REQUIRE(device->subscribe("$iothub/twin/res/#", 1) == 1);
  REQUIRE(device->publish("$iothub/twin/GET/?$rid=1", "", 0));
  auto reply = device->next_message();
  REQUIRE(reply);
  CHECK(reply->topic == "$iothub/twin/res/200/?$rid=1");
  const json twin = json::parse(reply->payload);
  CHECK(twin.at("desired").at("$version") == 1);
  CHECK(twin.at("reported").at("$version") == 1);

  REQUIRE(device->publish("$iothub/twin/PATCH/properties/reported/?$rid=2", R"({"lockState":"locked"})", 1));
  reply = device->next_message();
  REQUIRE(reply);
  CHECK(reply->topic == "$iothub/twin/res/204/?$rid=2&$version=2");

  CHECK(device->connected());
  hub.advance(std::chrono::hours(1));  // `se` reached: the hub kicks the device (401003, then 404104)
  // The kick proves the link read `expires` from $hub/conn and that its $hub/ctl/kick reached the
  // plugin. (The hub's own view follows when $hub/disc arrives, asynchronously: not checked here.)
  CHECK(device->wait_disconnected());
}
