// How a service client reaches the hub.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace mockhub::service {

/// Where requests go instead of https://{HostName}:443 (a mockhub on an ephemeral port). The SAS
/// token still names the connection string's HostName.
struct endpoint {
  /// "https" or "http".
  std::string scheme = "https";
  /// A name or an address (IPv6 without brackets). With https, the server certificate must be
  /// valid for it (mockhub's covers localhost, 127.0.0.1 and ::1).
  std::string host{};
  /// 0: 443 for https, 80 for http.
  std::uint16_t port = 0;

  /// Parses "https://127.0.0.1:8443", "http://localhost:8080", "https://[::1]:8443", "myhub.example".
  /// Throws std::invalid_argument for another scheme, a path, or a bad port.
  static endpoint parse(std::string_view url);
  /// "https://127.0.0.1:8443".
  std::string to_string() const;
};

struct client_options {
  /// Where to send requests; none: https://{HostName} (a real hub).
  std::optional<endpoint> endpoint_override{};
  /// PEM file of the CA that signed the server's certificate (mockhub's generated CA); empty:
  /// the system's trust store.
  std::filesystem::path ca_file{};
  /// Lifetime of the SAS token signed for each request.
  std::chrono::seconds token_lifetime{3600};
  /// TCP (and TLS) connection establishment.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  /// Waiting for an answer. Direct methods wait longer: connect + response timeout + 10 s.
  std::chrono::milliseconds request_timeout{std::chrono::seconds(60)};
  std::string user_agent = "mockhub-service/0.1.0";
};

}  // namespace mockhub::service
