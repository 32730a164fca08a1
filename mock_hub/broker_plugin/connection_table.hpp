// The device connections the plugin has accepted, keyed by the broker's client object (an opaque
// pointer: it identifies one network connection, while a client id can be taken over by a newer
// connection). Each has a generation id, positive and increasing for the table's life, which is
// what the hub uses to tell a takeover's new connection from the old one's late disconnect.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mockhub::broker_plugin {

/// What a device's CONNECT said and how it was authenticated.
struct connection_info {
  std::string client_id{};
  std::string device_id{};
  std::optional<std::string> module_id{};
  std::optional<std::string> api_version{};
  std::optional<std::string> client_type{};
  std::optional<std::string> model_id{};
  bool clean_session = false;
  int keepalive = 0;
  std::string address{};
  int protocol_version = 0;           // 3 = MQTT 3.1, 4 = 3.1.1, 5 = 5.0
  std::optional<std::string> policy{};  // `skn` when a shared access policy key signed the token
  std::optional<std::int64_t> expires{};  // the token's `se` (Unix seconds)
};

struct subscription {
  std::string filter;
  int qos = 0;
  bool operator==(const subscription&) const = default;
};

struct connection {
  std::uint64_t gen = 0;
  connection_info info{};
  std::vector<subscription> filters{};  // in the order first subscribed
  /// The hub asked to kick it; its DISCONNECT event has not come yet.
  bool closing = false;
};

class connection_table {
 public:
  using handle = const void*;
  /// At most 5 subscriptions per device connection [Doc].
  static constexpr std::size_t max_filters = 5;

  /// Registers an accepted connection and returns its generation id. A handle already present
  /// is replaced (its connection is returned by `remove` first if the caller needs it).
  std::uint64_t add(handle h, connection_info info);
  /// Forgets a connection; nullopt when the handle is unknown (refused at CONNECT, or the hub).
  std::optional<connection> remove(handle h);
  const connection* find(handle h) const;

  enum class subscribe_result : std::uint8_t {
    added,     ///< a new filter
    replaced,  ///< the filter was already there; its QoS is updated (no new slot is used)
    too_many,  ///< a sixth distinct filter: nothing changed
    unknown,   ///< no such connection
  };
  subscribe_result subscribe(handle h, std::string_view filter, int qos);
  /// Removes a filter; false when the connection did not have it.
  bool unsubscribe(handle h, std::string_view filter);
  /// Marks (or unmarks) the newest connection of `client_id` as closing; false when there is none.
  bool set_closing(std::string_view client_id, bool closing);

  std::size_t size() const noexcept { return connections_.size(); }
  /// Every connection, oldest generation first.
  std::vector<const connection*> by_generation() const;

 private:
  std::unordered_map<handle, connection> connections_;
  std::uint64_t last_gen_ = 0;
};

}  // namespace mockhub::broker_plugin
