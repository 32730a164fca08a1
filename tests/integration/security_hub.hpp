// Fixture of the security tests (test_security_*.cpp): a whole hub (hub_runtime: mosquitto with
// the plugin, the core on a virtual clock, the REST API over HTTP), attacked over both transports
// with raw MQTT clients (plugin_mqtt_client) and raw HTTP requests (httplib), so what is checked
// is exactly what goes over the wire: CONNACK codes, SUBACKs, closed connections, 401 bodies.
#pragma once

#include <catch2/catch.hpp>
#include <httplib.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "mock_hub/core/sas_token.hpp"
#include "mock_hub/server/hub_runtime.hpp"
#include "plugin_mqtt_client.hpp"

namespace mockhub::test {

/// A valid base64 key (32 bytes) that no identity or policy of the hub has.
inline const std::string stranger_key = "YW5vdGhlciBrZXksIDMyIGJ5dGVzIGxvbmcuLi4uLi4=";
inline const std::string security_host = "security-hub.azure-devices.net";

struct security_hub {
  server::hub_runtime hub;

  explicit security_hub(server::hub_runtime_options o = defaults()) : hub(std::move(o)) { hub.start(); }

  static server::hub_runtime_options defaults() {
    server::hub_runtime_options o;
    o.host_name = security_host;
    o.virtual_time = true;
    o.seed = 10;
    o.tls = false;
    return o;
  }

  /// Creates a device with generated keys; returns its primary key once the plugin has it.
  std::string create_device(const std::string& id) {
    const std::string key =
        hub.call([&](core::hub& h) { return h.create_or_update_identity(id, {}, std::nullopt).primary_key; });
    REQUIRE(hub.wait_credentials_applied());
    return key;
  }
  std::string secondary_key(const std::string& id) {
    return hub.call([&](core::hub& h) { return h.registry().get_identity(id).secondary_key; });
  }
  std::string policy_key(const std::string& policy) {
    return hub.call([&](core::hub& h) { return h.policies().find(policy)->primary_key; });
  }

  std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(hub.now().time_since_epoch()).count();
  }
  /// A device token for `device_id` (scope `{host}/devices/{device_id}`), valid for an hour.
  std::string device_token(const std::string& device_id, const std::string& key, const std::string& policy = {}) {
    return core::sas_token::create(security_host + "/devices/" + device_id, key, hub.now() + std::chrono::hours(1), policy);
  }
  /// A service token of `policy` (scope: the hub), valid for an hour.
  std::string service_token(const std::string& policy) {
    return core::sas_token::create(security_host, policy_key(policy), hub.now() + std::chrono::hours(1), policy);
  }
  static std::string username(const std::string& id) { return security_host + "/" + id + "/?api-version=2021-04-12"; }

  /// The CONNACK code a CONNECT of `id` with this password gets (0 accepted, 5 not authorized).
  int connect_code(const std::string& id, const std::optional<std::string>& password) {
    plugin_mqtt_client c(id);
    return c.connect(hub.mqtt_port(), username(id), password);
  }
  /// A device connected with `password` (CONNACK 0 required) and subscribed to direct methods,
  /// once the hub has seen the subscription.
  std::unique_ptr<plugin_mqtt_client> device(const std::string& id, const std::string& password, bool clean_session = true) {
    auto c = std::make_unique<plugin_mqtt_client>(id, clean_session);
    REQUIRE(c->connect(hub.mqtt_port(), username(id), password) == 0);
    REQUIRE(c->subscribe("$iothub/methods/POST/#", 0) == 0);
    REQUIRE(hub.wait_until(
        [&](core::hub& h) { return h.sessions().is_subscribed(id, core::device_subscription::methods); }));
    return c;
  }
  bool connected(const std::string& id) {
    return hub.call([&](core::hub& h) { return h.sessions().is_connected(id); });
  }
  bool wait_disconnected_at_hub(const std::string& id) {
    return hub.wait_until([&](core::hub& h) { return !h.sessions().is_connected(id); });
  }

  /// A direct method from the hub to a connected device, answered by it: the round trip works.
  void method_round_trip(plugin_mqtt_client& device, const std::string& id) {
    auto done = std::make_shared<std::promise<core::method_outcome>>();
    auto outcome = done->get_future();
    hub.call([&](core::hub& h) {
      h.invoke_device_method(id, core::method_request::from_json({{"methodName", "ping"}, {"payload", {{"n", 1}}}}),
                             [done](const core::method_outcome& o) { done->set_value(o); });
      return 0;
    });
    const auto request = device.next_message();
    REQUIRE(request);
    REQUIRE(request->topic.starts_with("$iothub/methods/POST/ping/?$rid="));
    const std::string rid = request->topic.substr(request->topic.find("$rid=") + 5);
    REQUIRE(device.publish("$iothub/methods/res/200/?$rid=" + rid, R"({"pong":1})", 0));
    REQUIRE(outcome.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    const auto o = outcome.get();
    if (const auto* e = std::get_if<core::hub_error>(&o)) FAIL("the call failed: " << e->code() << " " << e->what());
    CHECK(nlohmann::json(std::get<core::method_result>(o)) == nlohmann::json{{"status", 200}, {"payload", {{"pong", 1}}}});
  }

  httplib::Client rest() {
    httplib::Client c("127.0.0.1", hub.rest_port());
    c.set_connection_timeout(std::chrono::seconds(10));
    c.set_read_timeout(std::chrono::seconds(30));
    return c;
  }
  static std::string api(const std::string& path) { return path + "?api-version=2021-04-12"; }
  static httplib::Headers auth(const std::string& authorization) {
    httplib::Headers h;
    if (!authorization.empty()) h.emplace("Authorization", authorization);
    return h;
  }
};

/// A refused REST call: 401, `iothub-errorcode: IotHubUnauthorizedAccess`, and exactly this
/// `Message` (the hub's legacy error body with the numeric code last).
inline void check_unauthorized(const httplib::Result& r, const std::string& text) {
  REQUIRE(r);
  INFO("body: " << r->body);
  CHECK(r->status == 401);
  CHECK(r->get_header_value("iothub-errorcode") == "IotHubUnauthorizedAccess");
  const auto body = nlohmann::json::parse(r->body);
  CHECK(body.at("Message") == "ErrorCode:IotHubUnauthorizedAccess;" + text + ";errorCode:401002");
  CHECK_THAT(body.at("ExceptionMessage").get<std::string>(), Catch::StartsWith("Tracking ID:"));
}

}  // namespace mockhub::test
