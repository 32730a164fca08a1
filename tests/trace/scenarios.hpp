// Sequential scenarios run against an in-process hub (back end through the service library over
// HTTP, devices through the device library): each step waits until the hub has handled the one
// before (on the hub's own trace), so a seeded virtual-clock run records the same trace every time.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

#include <mockhub/device/client.hpp>
#include <nlohmann/json.hpp>

#include "mock_hub/server/hub_runtime.hpp"
#include "service/service_client.hpp"
#include "trace_log.hpp"

namespace mockhub::test {

inline server::hub_runtime_options trace_hub_options(trace_log& log, std::filesystem::path record = {}) {
  server::hub_runtime_options o;
  o.virtual_time = true;
  o.seed = 43;
  o.tls = false;
  o.record = std::move(record);
  o.on_trace_event = log.listener();
  return o;
}

inline service::client_options http_options(server::hub_runtime& hub) {
  return {.endpoint_override = service::endpoint{.scheme = "http", .host = "127.0.0.1", .port = hub.rest_port()}};
}

/// A device-library client on the hub's plain MQTT port that answers `lockDoor` with 200 and
/// takes desired patches; returns once the hub has answered the twin GET it sends after connecting.
inline std::unique_ptr<device::client> connect_device(server::hub_runtime& hub, trace_log& log, const std::string& id) {
  device::client_options o;
  o.tls.enabled = false;
  o.host = "127.0.0.1";
  o.port = hub.mqtt_port();
  auto c = std::make_unique<device::client>(hub.device_connection_string(id), o);
  c->on_method("lockDoor", [](const device::method_request&) {
    return device::method_response{200, {{"Response", "lockDoor called successfully"}}};
  });
  c->on_desired_properties([](const nlohmann::json&, device::twin_update_state) {});
  const std::size_t from = log.size();
  REQUIRE(c->connect().wait_for(std::chrono::seconds(20)));
  REQUIRE(log.wait_device_event("hub->device", "publish", id, "$iothub/twin/res/", from));
  return c;
}

/// Registry, twin, reported properties, telemetry, a direct method, a clock move and two errors.
inline void basic_scenario(server::hub_runtime& hub, trace_log& log) {
  service::service_client svc(hub.service_connection_string(), http_options(hub));
  svc.registry().create_device("lock1");
  auto lock = connect_device(hub, log, "lock1");

  svc.twins().update_twin("lock1", {{"properties", {{"desired", {{"floor", 3}}}}}});
  REQUIRE(lock->update_reported({{"locked", false}}).get() == 2);

  device::message m;
  m.body = R"({"temperature":21.5})";
  m.message_id = "m1";
  m.content_type = "application/json";
  m.properties["alert"] = "no";
  std::size_t from = log.size();
  lock->send_telemetry(m).get();
  REQUIRE(log.wait_device_event("device->hub", "publish", "lock1", "devices/lock1/messages/events/", from));

  const auto answer = svc.invoke_method("lock1", {.method_name = "lockDoor", .payload = {{"lockTime", "10m"}}});
  REQUIRE(answer.status == 200);

  hub.advance(std::chrono::seconds(90));
  REQUIRE_THROWS(svc.twins().get_twin("nosuchdevice"));
  REQUIRE_THROWS(svc.registry().create_device("lock1"));

  from = log.size();
  lock->close().wait_for(std::chrono::seconds(20));
  REQUIRE(log.wait_device_event("device->hub", "disconnect", "lock1", {}, from));
}

}  // namespace mockhub::test
