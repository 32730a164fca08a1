// A whole hub for device-path integration tests: hub_runtime (a real mosquitto with the plugin,
// the broker link, the core) on a virtual clock and plain MQTT, with helpers to create a device,
// connect it as an SDK does, and wait (bounded, on hub events) for the hub's view to change.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "mock_hub/core/sas_token.hpp"
#include "mock_hub/server/hub_runtime.hpp"
#include "plugin_mqtt_client.hpp"

namespace mockhub::test {

using namespace std::chrono_literals;

struct hub_fixture {
  server::hub_runtime hub{[] {
    server::hub_runtime_options o;
    o.virtual_time = true;
    o.seed = 42;
    o.tls = false;
    return o;
  }()};

  hub_fixture() { hub.start(); }

  std::string create_device(const std::string& id) {
    const std::string key = hub.call([&](core::hub& h) { return h.create_or_update_identity(id, {}, std::nullopt).primary_key; });
    REQUIRE(hub.wait_credentials_applied());
    return key;
  }
  std::string token(const std::string& id, const std::string& key, core::duration ttl = 1h) {
    return core::sas_token::create(hub.host_name() + "/devices/" + id, key, hub.now() + ttl);
  }
  std::string username(const std::string& id) { return hub.host_name() + "/" + id + "/?api-version=2021-04-12"; }

  // A device connected with its key and subscribed to what an SDK subscribes to.
  std::unique_ptr<plugin_mqtt_client> device(const std::string& id, const std::string& key) {
    auto c = std::make_unique<plugin_mqtt_client>(id, false);
    REQUIRE(c->connect(hub.mqtt_port(), username(id), token(id, key)) == 0);
    REQUIRE(c->subscribe("$iothub/methods/POST/#", 0));
    REQUIRE(c->subscribe("$iothub/twin/res/#", 0));
    REQUIRE(c->subscribe("$iothub/twin/PATCH/properties/desired/#", 0));
    REQUIRE(c->subscribe("devices/" + id + "/messages/devicebound/#", 1));
    return c;
  }
  // Waits (bounded, woken by hub events, never a sleep) until the hub's view satisfies `pred`.
  template <class P>
  bool eventually(P pred) {
    return hub.wait_until(pred, 10s);
  }
};


}  // namespace mockhub::test
