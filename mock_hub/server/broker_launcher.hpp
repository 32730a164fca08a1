// Runs the Debian mosquitto broker as a child process for one hub: generated configuration and
// TLS material, loopback listeners on chosen or ephemeral ports, readiness, clean shutdown.
#pragma once

#include "mock_hub/server/child_process.hpp"
#include "mock_hub/server/tls_material.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace mockhub::server {

/// How to run the broker. Every listener binds 127.0.0.1 (and ::1 when available), never more.
struct broker_options {
  /// Holds mosquitto.conf, mosquitto.log and, unless `tls_dir` is set, the TLS material.
  /// Created if missing. One running broker per directory (it is locked while the broker runs).
  std::filesystem::path data_dir{};
  /// The mosquitto binary. Empty: /usr/sbin/mosquitto, else `mosquitto` on PATH. A name
  /// without a '/' is looked up on PATH; a path is used as given.
  std::filesystem::path mosquitto_binary{};

  /// Plain MQTT port; 0 picks a free ephemeral port.
  std::uint16_t mqtt_port = 0;
  /// Adds an MQTT-over-TLS listener (what devices reach on IoT Hub's 8883); 0 picks a free port.
  bool tls_listener = false;
  std::uint16_t tls_port = 0;
  /// Also listen on ::1 (same ports), when the machine has IPv6 loopback.
  bool listen_ipv6 = true;
  /// A fixed port found taken is replaced by an ephemeral one instead of failing the start.
  /// Ephemeral ports are always picked again after a collision.
  bool retry_on_port_collision = false;
  int max_start_attempts = 5;

  /// Where the CA and server certificate live (empty: `data_dir`); brokers may share one.
  std::filesystem::path tls_dir{};
  tls_material_options tls{};

  /// The mockhub broker plugin (.so) and its `plugin_opt_*` settings. Without a plugin the
  /// broker allows anonymous clients: that is only for testing the launcher itself.
  std::filesystem::path plugin{};
  std::map<std::string, std::string> plugin_options{};
  std::uint16_t max_keepalive = 1767;
  /// Every listener's `max_qos`. 1 is IoT Hub's behaviour (the plugin relies on it): a QoS 2
  /// subscription is granted QoS 1 and a QoS 2 publish closes the connection [Doc].
  std::uint8_t max_qos = 1;

  /// Open files the broker should get (about one per device connection): its hard limit is
  /// raised to this where permitted, its soft limit to its hard limit.
  std::uint64_t min_open_files = 65536;
  /// Bound on start (up to the broker accepting on every listener) and on a clean stop (then SIGKILL).
  std::chrono::milliseconds start_timeout{30'000};
  std::chrono::milliseconds stop_timeout{10'000};
};

/// Why a start failed; `what()` says what to do about it.
class broker_launch_error : public std::runtime_error {
 public:
  enum class reason {
    invalid_options,   ///< options that cannot work (e.g. two listeners on one port)
    binary_not_found,  ///< no mosquitto: apt-get install mosquitto
    plugin_not_found,  ///< no plugin file: build the mockhub broker plugin
    data_dir_in_use,   ///< another running broker holds the data directory
    port_in_use,       ///< a fixed port is taken and retry_on_port_collision is off (or attempts ran out)
    broker_exited,     ///< the broker exited during start; the message carries its log tail
    start_timeout,     ///< not accepting on every listener within start_timeout
    tls_handshake,     ///< the TLS listener does not serve a certificate that verifies against the CA
    system,            ///< files, fork/exec, TLS material
  };

  broker_launch_error(reason why, const std::string& message) : std::runtime_error(message), why_(why) {}
  reason why() const noexcept { return why_; }

 private:
  reason why_;
};

/// One mosquitto broker process. `start()` writes the configuration (and TLS material when
/// asked), starts mosquitto, and returns once it accepts TCP connections on every listener.
/// The broker never outlives this process (see child_process). `stop()` and the destructor
/// send SIGTERM, wait `stop_timeout`, then SIGKILL.
///
/// Not for concurrent use from several threads; separate launchers are independent and may
/// start and stop in parallel.
class broker_launcher {
 public:
  explicit broker_launcher(broker_options options);
  broker_launcher(const broker_launcher&) = delete;
  broker_launcher& operator=(const broker_launcher&) = delete;
  ~broker_launcher();

  /// Starts the broker. Throws broker_launch_error; std::logic_error when already running.
  void start();
  /// Stops it and waits until it is reaped. Idempotent.
  void stop() noexcept;
  /// Stops the broker and starts it again on the ports it had, as a crashed broker that comes
  /// back looks to its clients (they reconnect to the same address). Throws as start() does.
  void restart();
  /// Whether the broker process is alive (false before start, after stop, or if it died).
  bool running();

  /// The broker's pid (kept after stop, for inspection); 0 before the first start.
  pid_t pid() const noexcept { return process_.pid(); }
  /// The ports actually used (ephemeral ones resolved); 0 before start or without that listener.
  std::uint16_t mqtt_port() const noexcept { return mqtt_port_; }
  std::uint16_t tls_port() const noexcept { return tls_port_; }
  /// Whether the listeners also bound ::1.
  bool listening_ipv6() const noexcept { return ipv6_; }

  const std::filesystem::path& data_dir() const noexcept { return options_.data_dir; }
  std::filesystem::path config_file() const { return options_.data_dir / "mosquitto.conf"; }
  /// The broker's stdout and stderr (its log), truncated at each start.
  std::filesystem::path log_file() const { return options_.data_dir / "mosquitto.log"; }
  /// The CA that signed the TLS listener's certificate; empty without a TLS listener.
  std::filesystem::path ca_file() const { return tls_ ? tls_->ca_file() : std::filesystem::path{}; }
  /// The TLS material in use; nullptr without a TLS listener.
  const tls_material* tls() const noexcept { return tls_ ? &*tls_ : nullptr; }
  /// The binary that was started.
  const std::filesystem::path& mosquitto_binary() const noexcept { return binary_; }

  /// The last `max_bytes` of the broker's log.
  std::string log_tail(std::size_t max_bytes = 4096) const;

 private:
  struct attempt_result;
  attempt_result run_attempt(std::uint16_t mqtt_port, std::uint16_t tls_port);
  void release_data_dir() noexcept;

  broker_options options_;
  std::filesystem::path binary_{};
  std::optional<tls_material> tls_{};
  child_process process_{};
  std::uint16_t mqtt_port_ = 0;
  std::uint16_t tls_port_ = 0;
  bool ipv6_ = false;
  int lock_fd_ = -1;
};

}  // namespace mockhub::server
