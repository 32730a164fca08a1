// Simulates a fleet of devices on one thread: every device is a `client` on one event_loop,
// acting out its fixture behaviour (method answers with latency and failures, reported updates,
// telemetry, desired echo, connect/disconnect churn). Deterministic for a seed: each device draws
// from its own generator, seeded from the fixture seed and its index.
//
// Seeding the registry (identities, tags, reported properties) is the caller's business (through
// hub_runtime, or a service connection): the simulator only connects devices.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mockhub/device/client.hpp"
#include "mockhub/device/event_loop.hpp"
#include "mockhub/device/fleet/fixture.hpp"

namespace mockhub::device::fleet {

struct fleet_options {
  std::string host_name = "localhost";  ///< HostName (what tokens are scoped to)
  std::string connect_host = "127.0.0.1";
  std::uint16_t port = 1883;
  tls_options tls{.enabled = false};
  /// A device's key when the fixture names none (nullopt: the device is skipped).
  std::function<std::optional<std::string>(const device_spec&)> key_for{};
  /// With a policy key from key_for (e.g. the `device` policy): its name (SharedAccessKeyName).
  std::optional<std::string> key_name{};
  /// Connection attempts in flight at once: a ramp, so that the broker's accept queue keeps up
  /// (mosquitto listens with a backlog of 100; SYNs past it are retried by TCP a second later).
  std::size_t max_connecting = 64;
  std::chrono::seconds keepalive{180};
  std::chrono::milliseconds connect_timeout{30'000};
  std::chrono::milliseconds operation_timeout{30'000};
  exponential_backoff_options backoff{.initial = std::chrono::milliseconds(500), .max = std::chrono::milliseconds(30'000)};
};

/// What happened, as an observer sees it (on the loop's thread).
struct fleet_event {
  enum class kind { connected, disconnected, method_answered, method_ignored, reported_acked, reported_failed, desired_received, telemetry_acked };
  kind what;
  std::size_t device;  ///< index in fixture().devices
  std::string detail;  ///< method name, or the error
};

struct latency_summary {
  std::uint64_t count = 0;
  double min_ms = 0, p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
};

/// Count, min, percentiles (nearest rank), max and mean of latencies in milliseconds.
latency_summary summarize(std::vector<double> ms);
/// {"count", "min_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms"}.
nlohmann::json to_json(const latency_summary& s);

struct fleet_report {
  std::size_t devices = 0;
  std::size_t connected_now = 0;
  std::size_t peak_connected = 0;
  std::uint64_t connects = 0;           ///< CONNACKs accepted (all devices, reconnects included)
  std::uint64_t connect_attempts = 0;
  std::uint64_t terminal_failures = 0;  ///< devices that stopped (refused credentials, gave up)
  std::uint64_t churn_disconnects = 0;
  std::uint64_t methods_received = 0, methods_answered = 0, methods_failed_on_purpose = 0, methods_ignored = 0;
  std::uint64_t reported_sent = 0, reported_acked = 0, reported_failed = 0;
  std::uint64_t desired_received = 0, desired_echoed = 0;
  std::uint64_t telemetry_sent = 0, telemetry_acked = 0;
  latency_summary first_connect;      ///< from start() to each device's first connection
  latency_summary reported_roundtrip; ///< update_reported to the hub's 204
  latency_summary method_latency;     ///< the latency each answer was held back (drawn)
  nlohmann::json to_json() const;
};

class fleet_simulator {
 public:
  /// The loop must outlive the simulator; everything runs on its thread.
  fleet_simulator(event_loop& loop, fleet_fixture fixture, fleet_options options);
  ~fleet_simulator();
  fleet_simulator(const fleet_simulator&) = delete;
  fleet_simulator& operator=(const fleet_simulator&) = delete;

  /// Creates the clients and starts connecting (ramped). Call on the loop's thread, or before
  /// anyone runs the loop.
  void start();
  /// Closes every client (churn stops). Loop thread.
  void stop();

  /// Called on the loop's thread for every event (set before start()).
  void on_event(std::function<void(const fleet_event&)> observer);

  const fleet_fixture& fixture() const noexcept { return fixture_; }
  /// Loop thread (or when the loop is not running).
  fleet_report report() const;
  std::size_t connected() const noexcept;
  /// The client of device `index` (nullptr before start or when it has no key).
  client* device(std::size_t index);

 private:
  struct sim_device;
  void connect_next();
  void connect_device(std::size_t index);
  void schedule_reported(sim_device& d);
  /// Sends a reported patch, counting it and emitting reported_acked/failed with `source`.
  void report(sim_device& d, nlohmann::json patch, const char* source);
  void schedule_telemetry(sim_device& d);
  void schedule_churn(sim_device& d);
  void emit(fleet_event::kind k, std::size_t device, std::string detail = {});

  event_loop& loop_;
  fleet_fixture fixture_;
  fleet_options options_;
  std::vector<std::unique_ptr<sim_device>> devices_;
  std::vector<std::size_t> to_connect_;
  std::size_t next_to_connect_ = 0;
  std::size_t connecting_ = 0;
  std::function<void(const fleet_event&)> observer_;
  clock::time_point started_{};
  struct counters;
  std::unique_ptr<counters> counters_;
  bool stopped_ = false;
};

}  // namespace mockhub::device::fleet
