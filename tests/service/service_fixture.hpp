// A whole hub in-process (mosquitto with the plugin, the hub core on its executor, REST over
// HTTP and HTTPS) on ephemeral loopback ports, and a service client talking HTTPS to it with the
// hub's generated CA. Virtual clock by default: time moves only through advance().
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "door_lock.hpp"
#include "mock_hub/core/sas_token.hpp"
#include "mock_hub/core/time_format.hpp"
#include "mock_hub/server/hub_runtime.hpp"
#include "service/service_client.hpp"

namespace mockhub::test {

inline server::hub_runtime_options hub_options(bool virtual_time = true) {
  server::hub_runtime_options o;
  o.virtual_time = virtual_time;
  o.seed = 7;
  return o;
}

struct service_fixture {
  server::hub_runtime hub;
  std::unique_ptr<service::service_client> client;

  explicit service_fixture(server::hub_runtime_options o = hub_options()) : hub(std::move(o)) {
    hub.start();
    client = std::make_unique<service::service_client>(hub.service_connection_string(), https_options());
  }

  service::client_options https_options() {
    return {.endpoint_override = service::endpoint{.scheme = "https", .host = "127.0.0.1", .port = hub.https_port()},
            .ca_file = hub.ca_file()};
  }
  service::client_options http_options() {
    return {.endpoint_override = service::endpoint{.scheme = "http", .host = "127.0.0.1", .port = hub.rest_port()}};
  }

  /// Registers a device straight in the hub core (fast, for setting up many) with tags.
  std::string register_device(const std::string& id, const nlohmann::json& tags = nullptr) {
    return hub.call([&](core::hub& h) {
      const std::string key = h.create_or_update_identity(id, {}, std::nullopt).primary_key;
      if (!tags.is_null()) h.update_twin(id, {{"tags", tags}}, std::nullopt);
      return key;
    });
  }

  /// A door lock in `building`: registered, tagged, connected and subscribed (the hub has seen
  /// its subscriptions when this returns).
  std::unique_ptr<door_lock> connect_lock(const std::string& id, int building, int status = 200, bool silent = false) {
    const std::string key = register_device(id, {{"building", building}});
    REQUIRE(hub.wait_credentials_applied());
    auto lock = std::make_unique<door_lock>(door_lock::options{
        .host_name = hub.host_name(),
        .port = hub.mqtt_port(),
        .device_id = id,
        .sas_token = core::sas_token::create(hub.host_name() + "/devices/" + id, key, hub.now() + std::chrono::hours(24)),
        .status = status,
        .silent = silent});
    REQUIRE(hub.wait_until([&](core::hub& h) {
      return h.sessions().is_subscribed(id, core::device_subscription::methods) &&
             h.sessions().is_subscribed(id, core::device_subscription::desired_patches);
    }));
    return lock;
  }

  /// A wait_for_completion pause for a virtual-clock hub: lets the devices answer what is in
  /// flight (bounded, woken by hub events), then moves the hub's clock by the poll interval.
  std::function<void(std::chrono::milliseconds)> advance_pause(const std::string& job_id) {
    return [this, job_id](std::chrono::milliseconds step) {
      hub.wait_until([&](core::hub& h) { return h.jobs().get_scheduled_job(job_id).statistics.running_count == 0; });
      hub.advance(step);
    };
  }
};

/// Runs `f` and returns the iothub_error it throws, if any. No Catch assertion: usable off the
/// test's thread.
template <class F>
std::optional<service::iothub_error> caught_hub_error(F&& f) {
  try {
    f();
  } catch (const service::iothub_error& e) {
    return e;
  }
  return std::nullopt;
}

/// Runs `f` and returns the iothub_error it throws (fails the test when it throws nothing).
template <class F>
service::iothub_error hub_error_of(F&& f) {
  try {
    f();
  } catch (const service::iothub_error& e) {
    return e;
  }
  FAIL("expected an iothub_error");
  throw std::logic_error("unreachable");
}

}  // namespace mockhub::test

// Enums print by name in Catch's expansions.
namespace Catch {
template <>
struct StringMaker<mockhub::service::job_status> {
  static std::string convert(mockhub::service::job_status s) { return std::string(mockhub::service::to_string(s)); }
};
template <>
struct StringMaker<mockhub::service::device_job_status> {
  static std::string convert(mockhub::service::device_job_status s) { return std::string(mockhub::service::to_string(s)); }
};
template <>
struct StringMaker<mockhub::service::job_type> {
  static std::string convert(mockhub::service::job_type t) { return std::string(mockhub::service::to_string(t)); }
};
}  // namespace Catch
