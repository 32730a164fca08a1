// An in-process hub (hub_runtime: mosquitto + plugin + core) for device integration tests, and
// small helpers to wait on events with bounds (never on sleeps).
#pragma once

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <mockhub/device/client.hpp>

#include "mock_hub/core/hub.hpp"
#include "mock_hub/server/hub_runtime.hpp"

namespace mockhub::test {

using namespace std::chrono_literals;
inline constexpr auto bound = std::chrono::seconds(30);

/// A free loopback port (bound and released): for a broker that must come back on the same port.
inline std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("free_port: bind failed");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

struct hub_options {
  bool virtual_time = false;
  bool tls = true;
  std::uint16_t mqtt_port = 0;
};

class hub_fixture {
 public:
  explicit hub_fixture(hub_options o = {}) : runtime_(make_options(o)) { runtime_.start(); }

  server::hub_runtime& runtime() { return runtime_; }
  template <class F>
  auto call(F&& f) {
    return runtime_.call(std::forward<F>(f));
  }

  /// Registers a device (generated keys) and returns its connection string once the plugin has
  /// its credentials (they travel hub -> broker link -> plugin asynchronously, and the plugin
  /// refuses a device it does not know yet with CONNACK 5, which the client never retries).
  std::string add_device(const std::string& id) {
    call([&](core::hub& h) {
      core::device_identity_request r;
      r.device_id = id;
      h.create_or_update_identity(id, r, std::nullopt);
    });
    if (!runtime_.wait_credentials_applied(bound)) throw std::runtime_error("the plugin never applied the credentials of " + id);
    return runtime_.device_connection_string(id);
  }

  /// Connects a probe until the broker accepts it (each try waits for its CONNACK, bounded): the
  /// end-to-end check that devices are admitted, e.g. after a broker restart.
  void wait_until_accepted(const std::string& connection_string) {
    auto o = plain();
    o.retry = std::make_shared<device::no_retry>();
    o.connect_timeout = std::chrono::seconds(10);
    for (int attempt = 0; attempt < 100; ++attempt) {
      device::client probe(connection_string, o);
      auto t = probe.connect();
      if (t.wait_for(bound) && t.ok()) {
        probe.close().wait_for(bound);
        return;
      }
    }
    throw std::runtime_error("the broker never accepted " + connection_string);
  }

  /// Options for plain MQTT to this hub.
  device::client_options plain() {
    device::client_options o;
    o.tls.enabled = false;
    o.host = "127.0.0.1";
    o.port = runtime_.mqtt_port();
    return o;
  }
  /// Options for MQTT over TLS to this hub, trusting its generated CA.
  device::client_options tls() {
    device::client_options o;
    o.tls.ca_file = runtime_.ca_file().string();
    o.host = runtime_.host_name();
    o.port = runtime_.mqtts_port();
    return o;
  }

  /// Invokes a direct method through the hub core and waits for the outcome.
  core::method_outcome invoke(const std::string& device_id, const std::string& method, nlohmann::json payload = nullptr,
                              int connect_timeout_seconds = 0) {
    auto done = std::make_shared<std::promise<core::method_outcome>>();
    auto result = done->get_future();
    call([&](core::hub& h) {
      core::method_request r;
      r.method_name = method;
      r.payload = std::move(payload);
      r.connect_timeout_seconds = connect_timeout_seconds;
      h.invoke_device_method(device_id, r, [done](const core::method_outcome& o) { done->set_value(o); });
    });
    if (result.wait_for(bound) != std::future_status::ready) throw std::runtime_error("invoke: no outcome in time");
    return result.get();
  }

 private:
  static server::hub_runtime_options make_options(const hub_options& o) {
    server::hub_runtime_options r;
    r.virtual_time = o.virtual_time;
    r.tls = o.tls;
    r.mqtt_port = o.mqtt_port;
    // Until the plugin is built by this tree, a prebuilt one can be named here.
    if (const char* p = std::getenv("MOCKHUB_BROKER_PLUGIN"); p && *p) r.plugin = p;
    return r;
  }
  server::hub_runtime runtime_;
};

/// Collects values from any thread; waits for one matching a predicate.
template <class T>
class recorder {
 public:
  void add(T v) {
    {
      std::lock_guard lock(mutex_);
      items_.push_back(std::move(v));
    }
    cv_.notify_all();
  }
  /// Waits (bounded) until some item (at index >= from) satisfies `pred`; returns its index.
  std::optional<std::size_t> wait_for(const std::function<bool(const T&)>& pred, std::size_t from = 0,
                                      std::chrono::milliseconds timeout = bound) {
    std::unique_lock lock(mutex_);
    std::optional<std::size_t> found;
    cv_.wait_for(lock, timeout, [&] {
      for (std::size_t i = from; i < items_.size(); ++i)
        if (pred(items_[i])) {
          found = i;
          return true;
        }
      return false;
    });
    return found;
  }
  std::vector<T> items() {
    std::lock_guard lock(mutex_);
    return items_;
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return items_.size();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<T> items_;
};

/// After the connection's SUBACKs, the hub may not have seen the subscriptions yet (they travel
/// plugin -> hub link -> executor). A twin GET takes the same path after them: once its answer
/// is back, the hub knows.
inline void sync_with_hub(device::client& c) { c.get_twin().wait_for(bound); }

}  // namespace mockhub::test
