// The few broker services the plugin's logic uses: the seam between plugin_state (no mosquitto
// headers, unit-tested with a fake) and plugin.cpp (which implements it with mosquitto_broker.h).
#pragma once

#include <string_view>

#include "mock_hub/core/clock.hpp"

namespace mockhub::broker_plugin {

enum class log_level { debug, info, notice, warning, error };

class broker_api {
 public:
  virtual ~broker_api() = default;

  /// Queues a message for the one client with this id, whether or not it subscribed
  /// (mosquitto_broker_publish_copy). The broker delivers it at its next loop turn, after what
  /// the current callback causes; queued messages keep their order.
  virtual void publish_to(std::string_view client_id, std::string_view topic, std::string_view payload, int qos) = 0;

  /// Disconnects the client with this id at once, without its will; its DISCONNECT event runs
  /// before this returns. False when no client has that id.
  virtual bool kick(std::string_view client_id) = 0;

  virtual void log(log_level level, std::string_view message) = 0;

  /// The wall clock (token expiry is judged against it unless the hub pins the time).
  virtual core::time_point now() const = 0;
};

}  // namespace mockhub::broker_plugin
