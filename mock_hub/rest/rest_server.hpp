// The service REST API of the hub (api-version 2021-04-12) over HTTP or HTTPS: an HTTP server
// on loopback whose threads route each request through the routes table (routes.hpp), check the
// api-version and the SAS `Authorization` header, and call the hub on its executor.
//
//   mockhub::rest::rest_server http({.port = 0}, executor, hub);   // 0: an ephemeral port
//   http.start();
//   http.port();   // where it listens
//   http.stop();   // also ends every wait for a direct method's answer
//
// httplib stays out of this header: users link mock_hub_rest and need no HTTP library flags.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "mock_hub/core/hub.hpp"
#include "mock_hub/server/hub_executor.hpp"
#include "mock_hub/trace/traffic_observer.hpp"

namespace mockhub::rest {

/// A PEM certificate (chain) and its private key, e.g. server::tls_material's server files.
struct tls_files {
  std::filesystem::path certificate;
  std::filesystem::path private_key;
};

struct rest_server_options {
  /// Loopback by default; the hub is a test double and never listens beyond the machine.
  std::string bind_address = "127.0.0.1";
  /// With bind_address 127.0.0.1: also listen on ::1, on the same port, when the machine has an
  /// IPv6 loopback, so that clients resolving `localhost` to ::1 first (Node 18, or any client
  /// that tries only the first address) reach the hub too, as they reach its MQTT listeners.
  bool listen_ipv6 = true;
  /// 0: an ephemeral port, chosen by the system (see port()).
  std::uint16_t port = 0;
  /// Serve HTTPS with these files instead of plain HTTP.
  std::optional<tls_files> tls{};
  /// Worker threads: one per open connection, so at least the number of concurrent callers.
  std::size_t threads = 96;
  /// Request bodies over this many bytes are refused with 413 MessageTooLarge.
  std::size_t max_body_bytes = 1024 * 1024;
  /// How much longer than connectTimeout + responseTimeout an HTTP thread waits for a direct
  /// method's outcome (the hub's own timers answer first; this bounds a stuck virtual clock).
  std::chrono::seconds method_wait_margin{10};
  /// Seed of the x-ms-request-id values (and tracking ids). Empty: from the random device.
  std::optional<std::uint64_t> seed{};
  /// Called (outside the executor) after an identity was created, updated or deleted, before
  /// the response goes out: the running hub waits there until the broker admits devices with
  /// the new credentials, so a device created by a request can connect as soon as it returns.
  std::function<void()> credentials_barrier{};
  /// Told every request as it arrives and its response as it leaves (null: nobody); must
  /// outlive the server. What a `--record` trace is made of.
  trace::traffic_observer* observer = nullptr;
  /// Moves the hub's virtual clock by the given duration (outside the executor), firing what
  /// becomes due, and returns the new time: `POST /_mockhub/clock/advance`. Empty: the hub runs on
  /// the system clock and that request is refused (400004).
  std::function<core::time_point(core::duration)> advance_clock{};
};

class rest_server_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class rest_server {
 public:
  /// `executor` owns `hub`; both must outlive the server (or at least its stop()).
  rest_server(rest_server_options options, server::hub_executor& executor, core::hub& hub);
  ~rest_server();
  rest_server(const rest_server&) = delete;
  rest_server& operator=(const rest_server&) = delete;

  /// Binds and starts serving; returns once connections are accepted. Throws rest_server_error
  /// when the TLS files cannot be loaded or the address cannot be bound (with listen_ipv6, a
  /// fixed port taken on ::1 too; an ephemeral port is chosen again until both addresses bind).
  void start();
  /// Stops accepting, ends waits for direct methods (503), and joins every thread. Idempotent.
  /// Waits for requests in progress; an idle keep-alive connection can delay it by up to 5 s.
  void stop();

  /// The port it listens on (after start()).
  std::uint16_t port() const noexcept;
  bool is_tls() const noexcept;
  /// Whether it also listens on ::1 (same port), after start().
  bool listening_ipv6() const noexcept;
  const rest_server_options& options() const noexcept;

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mockhub::rest
