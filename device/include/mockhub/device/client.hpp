// An IoT Hub device client over MQTT 3.1.1 (libmosquitto), shaped after Paho MQTT C++: option
// structs, std::function handlers, tokens to wait on, std::chrono durations.
//
//   auto cs = connection_string::parse(text);
//   client c(cs, {.tls = {.ca_file = "ca.pem"}});
//   c.on_method("lockDoor", [](const method_request& r) { return method_response{200, {{"ok", true}}}; });
//   c.on_desired_properties([](const nlohmann::json& d, twin_update_state s) { ... });
//   c.connect().get();                         // throws device_error (unauthorized, retry_expired, ...)
//   c.send_telemetry({.body = R"({"t":21.5})"}).wait_for(10s);
//   auto version = c.update_reported({{"lockState", "locked"}}).get();
//
// Two ways to run: `client(cs, options)` owns a network thread; `client(loop, cs, options)` is
// driven by an event_loop the application runs (one thread, many clients: see event_loop.hpp).
// Handlers run on the network thread (the loop's thread). Every method is thread-safe.
//
// What goes on the wire: client id = device id; username
// `{host}/{deviceId}/?api-version=2021-04-12&DeviceClientType=...`; password a SAS token made from
// the key (renewed by reconnecting before it expires, as the official SDKs do); clean session 0.
// After each CONNACK the client subscribes to what its handlers need (twin responses always;
// methods, desired patches and cloud-to-device when a handler is set), then, with a desired
// handler, GETs the twin to catch up (see desired_tracker.hpp). Operations issued while
// disconnected wait for the connection (bounded by operation_timeout); twin requests in flight
// when a connection drops are sent again on the next one.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mockhub/device/clock.hpp"
#include "mockhub/device/connection_string.hpp"
#include "mockhub/device/credentials.hpp"
#include "mockhub/device/desired_tracker.hpp"
#include "mockhub/device/device_error.hpp"
#include "mockhub/device/event_loop.hpp"
#include "mockhub/device/message.hpp"
#include "mockhub/device/retry_policy.hpp"
#include "mockhub/device/token.hpp"

namespace mockhub::device {

struct tls_options {
  /// TLS on (IoT Hub's only transport) or plain MQTT (local tests against mockhub's plain port).
  bool enabled = true;
  /// PEM CA file to trust; empty: the system's trust store.
  std::string ca_file{};
  /// Also trust the system store when a ca_file is given.
  bool use_system_store = false;
  /// Check the server certificate's name against the host connected to.
  bool verify_host_name = true;
};

struct client_options {
  tls_options tls{};
  /// Where to connect; empty/0: the connection string's GatewayHostName, else HostName, and
  /// port 8883 with TLS, 1883 without.
  std::string host{};
  std::uint16_t port = 0;
  /// DeviceClientType in the username.
  std::string client_type{default_client_type};
  std::chrono::seconds keepalive{180};  // the Node SDK's
  bool clean_session = false;

  /// Lifetime of the SAS tokens made from the key, and when to renew (reconnect with a fresh
  /// one): after this fraction of the lifetime. The Node SDK: 1 hour, renewed after 45 minutes.
  std::chrono::seconds token_lifetime{3600};
  double token_renewal = 0.75;

  /// Bound on one connection attempt: TCP, TLS, CONNACK and SUBACKs. libmosquitto 2.0.11
  /// sometimes never reports a failed TLS handshake, so every attempt is bounded.
  std::chrono::milliseconds connect_timeout{10'000};
  /// Bound on an operation (telemetry PUBACK, twin response), counted from when it was issued.
  std::chrono::milliseconds operation_timeout{30'000};

  /// Reconnect policy (default: exponential_backoff{}).
  std::shared_ptr<retry_policy> retry{};
  /// Time (default: the system clock; a client on an event_loop uses the loop's).
  std::shared_ptr<clock> time{};
};

struct method_request {
  std::string method_name;
  nlohmann::json payload;  ///< null when the request had no body
  std::string request_id;
};

struct method_response {
  int status = 200;
  nlohmann::json payload = nullptr;  ///< null sends an empty body
};

namespace detail {
struct method_reply_state;
}

/// Answers one method request later, from any thread. Copyable; the first answer wins. A request
/// whose connection has dropped since is not answered (the hub has failed the call already).
class method_reply {
 public:
  method_reply() = default;
  explicit method_reply(std::shared_ptr<detail::method_reply_state> state) : state_(std::move(state)) {}
  void respond(method_response response) const;
  void respond(int status, nlohmann::json payload = nullptr) const { respond(method_response{status, std::move(payload)}); }
  bool responded() const noexcept;

 private:
  std::shared_ptr<detail::method_reply_state> state_;
};

using method_handler = std::function<method_response(const method_request&)>;
using deferred_method_handler = std::function<void(const method_request&, method_reply)>;
/// `desired` includes "$version"; `complete` means the whole desired section (after a GET).
using desired_handler = std::function<void(const nlohmann::json& desired, twin_update_state state)>;
using message_handler = std::function<void(const message&)>;

enum class connection_status {
  disconnected,           ///< not connected and not trying (before connect(), after close() or a terminal failure)
  connecting,             ///< first attempt(s) after connect()
  connected,              ///< CONNACK and SUBACKs received
  disconnected_retrying,  ///< lost or failed; the next attempt is scheduled
};
enum class connection_reason {
  connection_ok,
  client_close,         ///< close() or destruction
  token_renewal,        ///< reconnecting with a fresh SAS token
  communication_error,  ///< network failure or connection dropped by the hub
  connect_timeout,      ///< no CONNACK/SUBACK in time
  server_unavailable,   ///< CONNACK 3
  refused,              ///< CONNACK 1/2
  bad_credential,       ///< CONNACK 4/5: not retried
  retry_expired,        ///< the retry policy gave up
};
const char* to_string(connection_status s) noexcept;
const char* to_string(connection_reason r) noexcept;

struct connection_event {
  connection_status status = connection_status::disconnected;
  connection_reason reason = connection_reason::connection_ok;
  /// For disconnected_retrying: the retry number and delay before it.
  unsigned attempt = 0;
  std::chrono::milliseconds retry_delay{0};
  std::string detail{};  ///< e.g. the CONNACK code or libmosquitto's error text
};
using connection_handler = std::function<void(const connection_event&)>;

/// The twin as a device sees it (GET): `desired` and `reported`, each with "$version".
struct twin {
  nlohmann::json desired = nlohmann::json::object();
  nlohmann::json reported = nlohmann::json::object();
  std::int64_t desired_version() const { return desired.value("$version", std::int64_t{0}); }
  std::int64_t reported_version() const { return reported.value("$version", std::int64_t{0}); }
};

/// Counters since construction (read on any thread; approximate while running).
struct client_stats {
  std::uint64_t connects = 0;        ///< CONNACKs accepted
  std::uint64_t connect_attempts = 0;
  std::uint64_t tokens_generated = 0;
  std::uint64_t methods_received = 0;
  std::uint64_t desired_received = 0;
  std::uint64_t messages_received = 0;  ///< cloud-to-device
  std::uint64_t telemetry_sent = 0;     ///< acknowledged by PUBACK
};

class client {
 public:
  /// A client with its own network thread.
  explicit client(connection_string cs, client_options options = {});
  /// Parses `connection_string` (throws connection_string_error).
  explicit client(std::string_view connection_string, client_options options = {});
  /// A client driven by `loop` (which must outlive it).
  client(event_loop& loop, connection_string cs, client_options options = {});
  /// Closes (without waiting for the DISCONNECT to be written when called off the loop while
  /// the loop is not running), fails what is pending with errc::closed.
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Starts connecting; completes on the first connection, fails on a terminal failure
  /// (unauthorized, retry_expired) or close(). Calling it again after a terminal failure starts over.
  token<void> connect();
  /// Sends DISCONNECT, stops reconnecting, fails pending operations (errc::closed). Idempotent.
  token<void> close();

  connection_status status() const noexcept;
  const connection_string& credentials() const noexcept;
  const std::string& device_id() const noexcept;
  client_stats stats() const noexcept;
  /// The `se` of the token of the current (or last) connection attempt; 0 before any.
  std::int64_t token_expiry() const noexcept;

  // --- handlers (may be set before or after connect; setting one subscribes as needed) ---
  void on_method(std::string name, method_handler handler);
  void on_method_deferred(std::string name, deferred_method_handler handler);
  /// For methods without their own handler. Without any, a request is answered 501 (as the C# SDK does).
  void on_default_method(method_handler handler);
  void on_default_method_deferred(deferred_method_handler handler);
  void on_desired_properties(desired_handler handler);
  void on_cloud_to_device(message_handler handler);
  void on_connection_status(connection_handler handler);

  // --- operations ---
  /// QoS 1; completes on the PUBACK.
  token<void> send_telemetry(message m);
  token<twin> get_twin();
  /// Completes with the new reported $version on the hub's 204; fails with errc::hub_status
  /// carrying the status and the hub's error body otherwise.
  token<std::int64_t> update_reported(nlohmann::json patch);

  /// The event loop this client runs on (its own one for a threaded client).
  event_loop& loop() noexcept;

  class impl;

 private:
  std::unique_ptr<event_loop> own_loop_;
  std::shared_ptr<impl> impl_;
  std::thread thread_;
};

}  // namespace mockhub::device
