// A running hub: the mosquitto broker with the mockhub plugin (child process), the hub core on
// its executor thread, the broker link between them, and the service REST API over HTTP and
// HTTPS. What `mockhub start`/`run` and the test harness start; everything listens on loopback only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "broker_launcher.hpp"
#include "hub_executor.hpp"
#include "mock_hub/broker_link/broker_link.hpp"
#include "mock_hub/core/clock.hpp"
#include "mock_hub/core/hub.hpp"
#include "mock_hub/core/id_source.hpp"
#include "mock_hub/rest/rest_server.hpp"
#include "mock_hub/trace/trace_recorder.hpp"

namespace mockhub::server {

struct hub_runtime_options {
  /// Broker configuration and TLS material. Empty: a fresh temporary directory, removed on stop.
  std::filesystem::path data_dir{};
  /// Keep the hub's state (registry, twins, policies, jobs and device records, waiting C2D
  /// messages) in `<data_dir>/hub.db` (SQLite, mock_hub/store) and start from what it holds;
  /// needs a `data_dir`. false: in memory only.
  bool persist = false;
  /// With `persist`: fsync every commit (survives power loss, not only the hub being killed).
  bool fsync_every_commit = false;
  /// Host name in connection strings and SAS scopes (`sr`), and a name in the TLS certificate.
  std::string host_name = "localhost";
  /// Plain MQTT port and MQTT-over-TLS port; 0 picks an ephemeral port.
  std::uint16_t mqtt_port = 0;
  std::uint16_t mqtts_port = 0;
  bool tls = true;
  /// Service REST API: a plain HTTP port and, with `tls`, an HTTPS port serving the broker's
  /// certificate (same CA as MQTT over TLS); 0 picks an ephemeral port.
  bool rest = true;
  std::uint16_t rest_port = 0;
  std::uint16_t https_port = 0;
  /// A virtual clock (time moves only through advance()) instead of the system clock.
  bool virtual_time = false;
  /// Seed of generated keys, etags and ids. Empty: from the system's random device.
  std::optional<std::uint64_t> seed{};
  core::hub_options hub{};
  /// Record a trace (JSON Lines, docs/trace-format.md) of every request, response, device
  /// message and clock move to this file. Empty: no trace.
  std::filesystem::path record{};
  /// Also hands every trace line (the header first) to this function, in order, on the thread
  /// that recorded it; set without `record`, the trace is only kept in memory by whoever listens.
  /// What replay and tests use to wait for the hub to have handled something.
  std::function<void(const nlohmann::json& line)> on_trace_event{};
  /// The broker plugin. Empty: $MOCKHUB_BROKER_PLUGIN, else the first that exists of the installed
  /// package's, <program dir>/../lib/mockhub/, this build's, the configured install prefix's.
  std::filesystem::path plugin{};
  std::filesystem::path mosquitto_binary{};
};

class hub_runtime {
 public:
  explicit hub_runtime(hub_runtime_options options);
  ~hub_runtime();
  hub_runtime(const hub_runtime&) = delete;
  hub_runtime& operator=(const hub_runtime&) = delete;

  /// The file of the hub's state (`<data_dir>/hub.db`); empty unless `persist`.
  static std::filesystem::path state_file(const std::filesystem::path& data_dir) { return data_dir / "hub.db"; }

  /// Opens the state (with `persist`), starts the broker, the executor, the link, then the REST
  /// servers; returns when devices and back ends can connect. A state file that cannot be used
  /// (damaged, newer schema) throws store::store_error before anything starts.
  /// Throws broker_launch_error or std::runtime_error naming what failed (trace::trace_error,
  /// before anything started, when the `record` file cannot be written).
  void start();
  /// Stops the REST servers (first, so no request reaches a hub going away), the link, the broker
  /// and the executor. Idempotent.
  void stop();

  /// Runs `f(hub)` on the executor and returns its result (rethrowing its exceptions).
  template <class F>
  auto call(F&& f) {
    return executor_->call([this, &f]() mutable { return f(*hub_); });
  }
  /// Waits until `condition(hub)` holds (checked on the hub's thread after every event), at most
  /// `timeout`. The way tests wait for the hub to see something, without sleeping.
  template <class P>
  bool wait_until(P condition, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return executor_->wait_until([this, condition]() { return condition(*hub_); }, timeout);
  }

  /// Waits until the broker admits devices with the credentials as they are now (after a device
  /// was created, disabled or had its keys changed). False on timeout.
  bool wait_credentials_applied(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return link_->wait_credentials_applied(timeout);
  }
  /// Moves the virtual clock (virtual_time only), firing everything that becomes due, and tells
  /// the plugin the new time for SAS expiry. Throws std::logic_error with a system clock.
  void advance(core::duration by);
  core::time_point now();

  std::uint16_t mqtt_port() const;
  std::uint16_t mqtts_port() const;
  std::filesystem::path ca_file() const;
  /// The service REST API's plain HTTP port and HTTPS port; 0 when not served.
  std::uint16_t rest_port() const;
  std::uint16_t https_port() const;
  const std::string& host_name() const noexcept { return options_.host_name; }
  broker_launcher& broker() { return *broker_; }
  broker_link::broker_link& link() { return *link_; }

  /// `HostName=...;SharedAccessKeyName=iothubowner;SharedAccessKey=...`
  std::string service_connection_string();
  /// `HostName=...;DeviceId=...;SharedAccessKey=<primary key>`. 404001 for an unknown device.
  std::string device_connection_string(const std::string& device_id);

 private:
  hub_runtime_options options_;
  std::filesystem::path temp_dir_;
  std::unique_ptr<core::clock> clock_;
  core::virtual_clock* virtual_clock_ = nullptr;
  // The virtual clock's time for threads other than the executor (the REST threads' trace events).
  std::atomic<core::duration::rep> virtual_now_{0};
  std::unique_ptr<trace::trace_recorder> recorder_;
  std::unique_ptr<core::id_source> ids_;
  std::unique_ptr<core::hub_store> store_;
  std::unique_ptr<hub_executor> executor_;
  std::unique_ptr<broker_link::broker_link> link_;
  std::unique_ptr<core::hub> hub_;
  std::unique_ptr<broker_launcher> broker_;
  std::unique_ptr<rest::rest_server> rest_;
  std::unique_ptr<rest::rest_server> https_;
  bool started_ = false;
};

}  // namespace mockhub::server
