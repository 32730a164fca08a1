// The mosquitto.conf the launcher writes: only what mockhub needs, for mosquitto 2.0.11.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace mockhub::server {

/// One listening socket: a port on one address, plain MQTT or MQTT over TLS.
struct mosquitto_listener {
  std::uint16_t port = 0;
  std::string address = "127.0.0.1";
  bool tls = false;
};

/// Everything that goes into mosquitto.conf. `text()` renders it and refuses values that would
/// break the line-based format (line breaks, empty plugin options, a TLS listener without files).
struct mosquitto_conf {
  std::vector<mosquitto_listener> listeners{};
  /// PEM files for the TLS listeners.
  std::filesystem::path cafile{};
  std::filesystem::path certfile{};
  std::filesystem::path keyfile{};
  /// The broker plugin; without one, anonymous clients are allowed.
  std::filesystem::path plugin{};
  /// Rendered as `plugin_opt_<key> <value>`; keys are [A-Za-z0-9_]+.
  std::map<std::string, std::string> plugin_options{};
  /// `user` line: the account the broker runs as when started by root. Empty: no line.
  std::string user{};
  /// Applies to MQTT 5 clients only in 2.0.11 (server keep alive); IoT Hub's limit is 1767 s.
  std::uint16_t max_keepalive = 1767;
  /// `max_qos` of every listener (0-2; 2 writes no line). With 1, as on IoT Hub, a QoS 2
  /// subscription is granted QoS 1 in SUBACK and a QoS 2 publish closes the connection.
  std::uint8_t max_qos = 2;

  /// The configuration file's text.
  std::string text() const;
};

}  // namespace mockhub::server
