// A whole IoT Hub for one test: mosquitto with the mockhub plugin on ephemeral loopback ports and
// the hub in-process, started by the constructor and stopped by the destructor.
//
//   mockhub::harness::test_hub hub({.virtual_clock = true, .seed = 7});
//   mockhub::device::client lock(hub.create_device("lock1"), hub.device_options());
//   mockhub::service::service_client backend(hub.service_connection_string(), hub.service_options());
//   backend.jobs().schedule_device_method({.job_id = "j1", .query_condition = "*",
//                                          .method = {.method_name = "lockDoor"},
//                                          .start_time = hub.now() + 20s});
//   hub.advance(20s);                       // the job starts; returns when the hub has run it
//   hub.wait_for_job("j1", "completed");    // bounded; throws wait_timeout naming the wait
//
// Pimpl: this header needs only the device and service libraries' public headers.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <mockhub/device/client.hpp>
#include <mockhub/device/fleet/fixture.hpp>
#include <mockhub/device/fleet/simulator.hpp>

#include "service/client_options.hpp"

namespace mockhub::harness {

/// A bounded wait ran out. `what()` names what was awaited and what was seen last.
class wait_timeout : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// How the hub is started (every member has a default; designated initialisers welcome).
struct test_hub_config {
  /// A virtual clock (starts at 2026-01-01T00:00:00Z, moves only through advance()) instead of
  /// the system clock.
  bool virtual_clock = true;
  /// Seed of generated keys, etags, ids and request ids. None: from the system's random device.
  std::optional<std::uint64_t> seed{};
  /// IoT Hub tier: "F1", "S1", "S2" or "S3" (concurrent jobs: 1, 1, 5, 10). Others: invalid_argument.
  std::string tier = "S1";
  /// MQTT over TLS and HTTPS (with a generated CA, ca_file()) besides plain MQTT and HTTP.
  bool tls = true;
  /// A fleet to seed into the registry and simulate from the start: a fixture file
  /// (docs/fleet-format.md) or a parsed one. Neither: no fleet (start_fleet() can add one).
  std::filesystem::path fleet_file{};
  std::optional<device::fleet::fleet_fixture> fleet{};
  /// Simulated devices connect over TLS (needs `tls`) instead of plain MQTT.
  bool fleet_over_tls = false;
  /// Record a trace (JSON Lines, docs/trace-format.md) of the session to this file. Empty: none.
  std::filesystem::path record{};
  /// Host name in connection strings and SAS scopes.
  std::string host_name = "localhost";
  /// Broker configuration, log and TLS material. Empty: a temporary directory, removed at the end.
  std::filesystem::path data_dir{};
  /// Telemetry messages the hub keeps per device (oldest dropped first).
  std::size_t telemetry_per_device = 1000;
  /// The bound of every wait_for_* that is not given one.
  std::chrono::milliseconds wait_bound{std::chrono::seconds(30)};
  /// The broker plugin. Empty: MOCKHUB_BROKER_PLUGIN, else the installed or built one.
  std::filesystem::path broker_plugin{};
};

/// A telemetry message as the hub received it.
struct telemetry_message {
  std::string device_id;
  std::string body;  ///< bytes, as sent
  std::map<std::string, std::string> properties;  ///< application properties (a bare key maps to "")
  nlohmann::json system_properties = nlohmann::json::object();  ///< messageId, contentType, ...
  std::string enqueued_time;  ///< ISO-8601, the hub's clock
  std::uint64_t sequence_number = 0;
};

class test_hub {
 public:
  /// Starts the hub (and the fleet, when the config names one); returns once devices and back
  /// ends can connect. Throws std::invalid_argument for a bad config, std::runtime_error naming
  /// what failed to start.
  explicit test_hub(test_hub_config config = {});
  /// Stops the fleet, then the hub. Never throws.
  ~test_hub();
  test_hub(const test_hub&) = delete;
  test_hub& operator=(const test_hub&) = delete;

  const test_hub_config& config() const noexcept;

  // --- where things are ---
  /// `HostName=...;SharedAccessKeyName=iothubowner;SharedAccessKey=...`
  std::string service_connection_string() const;
  /// The device's connection string (primary key). std::invalid_argument for an unknown device.
  std::string device_connection_string(const std::string& device_id) const;
  /// The generated CA (PEM) that signed the MQTT-over-TLS and HTTPS certificates; empty without TLS.
  std::filesystem::path ca_file() const;
  std::string host_name() const;
  std::uint16_t mqtt_port() const;
  std::uint16_t mqtts_port() const;  ///< 0 without TLS
  /// "http://127.0.0.1:PORT" and "https://127.0.0.1:PORT" (empty without TLS).
  std::string rest_url() const;
  std::string https_url() const;
  /// Ready-made options: a service client over HTTPS with the CA (over HTTP without TLS, or when
  /// `https` is false); a device client over MQTT-over-TLS with the CA (plain MQTT likewise).
  service::client_options service_options(bool https = true) const;
  device::client_options device_options(bool tls = true) const;

  // --- the registry ---
  /// Registers a device (keys generated) and returns its connection string once the broker
  /// admits it. `tags` go into its twin. std::invalid_argument when the hub refuses the id.
  std::string create_device(const std::string& device_id, const nlohmann::json& tags = nlohmann::json::object());

  // --- time ---
  /// The hub's clock.
  std::chrono::system_clock::time_point now() const;
  /// Moves the virtual clock by `by` (>= 0) and returns when the hub has run everything that
  /// became due (job starts, method timeouts, expiries, the end of an injected fault) and the
  /// broker admits devices as the hub now says. std::logic_error with a system clock.
  void advance(std::chrono::milliseconds by);

  // --- faults ---
  /// Kills the broker (SIGKILL, as a crash; SIGTERM when `kill` is false) and starts it again on
  /// the same ports; returns once it accepts connections. The hub's link and every device then
  /// reconnect on their own, as they would after a real broker outage.
  void restart_broker(bool kill = true);

  // --- fleets ---
  /// Seeds the registry from `fixture` (identities, tags, reported properties) and simulates it on
  /// its own event-loop thread. One fleet per hub: std::logic_error for a second.
  void start_fleet(device::fleet::fleet_fixture fixture);
  void start_fleet(const std::filesystem::path& fixture_file);
  /// The fleet's report and events so far (std::logic_error without a fleet).
  device::fleet::fleet_report fleet_report() const;
  std::vector<device::fleet::fleet_event> fleet_events() const;
  /// The index of `device_id` in the fleet fixture (std::invalid_argument when not in it).
  std::size_t fleet_index(const std::string& device_id) const;

  // --- bounded waits: each throws wait_timeout naming what it awaited; `timeout` 0 means wait_bound ---
  /// Until job `job_id` has status `status` ("scheduled", "running", "completed", "failed",
  /// "cancelled"). Throws std::runtime_error at once when the job finishes in another status.
  /// Returns the job as the REST API shows it.
  nlohmann::json wait_for_job(const std::string& job_id, const std::string& status,
                              std::chrono::milliseconds timeout = {});
  /// Until the hub sees the device connected (MQTT CONNACK given and reported to the hub).
  void wait_for_connected(const std::string& device_id, std::chrono::milliseconds timeout = {});
  /// Until the hub knows the device is connected and subscribed to `what`: "methods", "desired"
  /// (desired-property patches) or "c2d" (cloud-to-device). Subscriptions reach the hub shortly
  /// after the device's SUBACK: wait on this before invoking a method or scheduling a job.
  void wait_for_subscribed(const std::string& device_id, const std::string& what = "methods",
                           std::chrono::milliseconds timeout = {});
  /// Until the hub holds at least `count` telemetry messages of the device; returns them all.
  std::vector<telemetry_message> wait_for_telemetry(const std::string& device_id, std::size_t count = 1,
                                                    std::chrono::milliseconds timeout = {});
  /// Until a desired-properties write reached the hub with a desired $version >= `version` (hub side).
  void wait_for_desired_version(const std::string& device_id, std::int64_t version,
                                std::chrono::milliseconds timeout = {});
  /// Fleet side: until every fleet device is connected.
  void wait_for_fleet_connected(std::chrono::milliseconds timeout = {});
  /// Fleet side: until the fleet has seen `count` events of kind `what` for `device_id` (with
  /// `detail`, e.g. the method name, when not empty). Returns the first of them.
  device::fleet::fleet_event wait_for_fleet_event(const std::string& device_id, device::fleet::fleet_event::kind what,
                                                  const std::string& detail = {}, std::size_t count = 1,
                                                  std::chrono::milliseconds timeout = {});
  /// Fleet side: a device received (and answered, as its behaviour says) a direct method.
  void wait_for_method(const std::string& device_id, const std::string& method_name, std::chrono::milliseconds timeout = {});
  /// Fleet side: a device received a desired-properties patch (or the full desired section).
  void wait_for_desired_patch(const std::string& device_id, std::size_t count = 1, std::chrono::milliseconds timeout = {});

  class impl;

 private:
  std::unique_ptr<impl> impl_;
};

/// A hub started outside this process (`mockhub start --detach`, the CMake fixture), read from
/// `<data-dir>/hub.json`.
struct running_hub {
  int pid = 0;
  std::string host_name;
  std::string service_connection_string;
  std::string rest_url, https_url;  ///< https_url empty without TLS
  std::uint16_t mqtt_port = 0, mqtts_port = 0;
  std::filesystem::path ca_file;
  bool virtual_clock = false;
  std::map<std::string, std::string> devices;  ///< device id -> connection string

  /// Reads `<data_dir>/hub.json`. std::runtime_error naming the file when it is missing or malformed.
  static running_hub load(const std::filesystem::path& data_dir);
  /// From MOCKHUB_DATA_DIR, else ./.mockhub.
  static running_hub from_environment();

  service::client_options service_options(bool https = true) const;
  device::client_options device_options(bool tls = true) const;
};

}  // namespace mockhub::harness
