// Who is connected, on which connection (generation id), and subscribed to what. Transport-free:
// the broker link reports connects, disconnects and subscriptions; the hub asks before pushing.
//
// Generation ids order connections of the same device: on a takeover the new connection is
// announced before the old one's disconnect, so a disconnect only counts for the current
// generation. MQTT persistent sessions (clean session 0) keep their subscriptions across
// reconnects, as the broker keeps them; clean sessions start with none.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clock.hpp"
#include "string_index.hpp"

namespace mockhub::core {

/// The four things a device can subscribe to (reference section 1.5).
enum class device_subscription : std::uint8_t {
  methods = 1,           // $iothub/methods/POST/#
  twin_responses = 2,    // $iothub/twin/res/#
  desired_patches = 4,   // $iothub/twin/PATCH/properties/desired/#
  cloud_to_device = 8,   // devices/{id}/messages/devicebound/#
};

/// What a device's CONNECT said.
struct connection_info {
  std::uint64_t generation = 0;
  bool clean_session = false;
  std::string api_version;
  std::string client_type;
  std::string model_id;
  /// When the SAS token the device connected with expires; the hub disconnects it then.
  std::optional<time_point> token_expiry;
};

struct device_session {
  connection_info connection;
  bool connected = false;
  std::uint8_t subscriptions = 0;
  bool subscribed(device_subscription s) const noexcept { return (subscriptions & static_cast<std::uint8_t>(s)) != 0; }
};

class device_sessions {
 public:
  /// A connection was accepted. Returns false (and changes nothing) when a newer generation is
  /// already known for the device.
  bool connect(std::string_view device_id, const connection_info& info);
  /// A connection ended. Returns true when it was the current one (the device is now offline).
  bool disconnect(std::string_view device_id, std::uint64_t generation);
  /// A subscription or unsubscription on a connection; ignored (false) for a stale generation.
  bool subscribe(std::string_view device_id, std::uint64_t generation, device_subscription s);
  bool unsubscribe(std::string_view device_id, std::uint64_t generation, device_subscription s);

  bool is_connected(std::string_view device_id) const;
  /// Connected and subscribed to `s`.
  bool is_subscribed(std::string_view device_id, device_subscription s) const;
  const device_session* find(std::string_view device_id) const;

  /// Replaces every session with what the broker reports after the hub (re)connected to it:
  /// devices not in `live` are offline (persistent subscriptions kept), those in it connected.
  void reconcile(const std::vector<std::pair<std::string, device_session>>& live);

  /// Forgets the device (its identity was deleted).
  void forget(std::string_view device_id);
  /// The devices connected now, in id order.
  std::vector<std::string> connected_devices() const;

 private:
  device_session* find_mutable(std::string_view device_id);
  device_session& find_or_add(std::string_view device_id);
  /// The session when its connection is `generation` and connected, else nullptr.
  device_session* current(std::string_view device_id, std::uint64_t generation);

  using session_map = std::map<std::string, device_session, std::less<>>;
  session_map sessions_;  // id order
  // The same sessions by id, hashed: the hub looks a device up on every message it sends or receives.
  string_index<session_map::value_type> index_;
};

}  // namespace mockhub::core
