// The plugin's one state object (the userdata of every callback): who the hub is, the
// credentials it pushed, the accepted device connections, and the rules of README.md. It knows
// nothing of mosquitto: plugin.cpp turns broker events into these calls and the results into
// MOSQ_ERR_* codes, and the broker's services come through `broker_api`.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "broker_api.hpp"
#include "connection_table.hpp"
#include "credential_store.hpp"
#include "hub_topics.hpp"

namespace mockhub::broker_plugin {

/// The `plugin_opt_*` settings.
struct plugin_config {
  /// `hub_secret`: the password of the hub's connection (required, non-empty).
  std::string hub_secret{};
  /// `hub_username`: the username the hub connects with.
  std::string hub_username = "$mockhub";

  /// Reads the options as the broker passes them (keys without `plugin_opt_`). Unknown keys are
  /// ignored. Throws std::invalid_argument when `hub_secret` is missing or empty.
  static plugin_config from_options(std::span<const std::pair<std::string_view, std::string_view>> options);
};

/// A CONNECT, as BASIC_AUTH sees it.
struct connect_attempt {
  const void* handle = nullptr;  // the broker's client object
  std::string_view client_id{};
  std::optional<std::string_view> username{};
  std::optional<std::string_view> password{};
  std::string_view address{};
  int keepalive = 0;
  bool clean_session = true;
  int protocol_version = 4;
};

/// `refused`: CONNACK 5 (SDKs do not retry it). `unavailable`: the hub cannot judge yet (no
/// credentials since the broker or the hub's link restarted): the connection is closed without a
/// CONNACK, which SDKs retry, as they would the real hub's "server unavailable".
enum class auth_result : std::uint8_t { accepted, refused, unavailable };

enum class acl_access : std::uint8_t { read, write, subscribe, unsubscribe };

enum class acl_result : std::uint8_t {
  allowed,
  denied,         ///< quietly: not delivered (read), dropped (write), refused in SUBACK
  violation,      ///< a device broke the protocol: end its connection
  qos_violation,  ///< a device published with QoS 2: end its connection
};

/// What becomes of a PUBLISH that passed the ACL check. `close`: refused and the connection
/// ended without a PUBACK (a device's telemetry over the real hub's size limit).
struct message_result {
  enum class action : std::uint8_t { keep, drop, close } what = action::keep;
};

class plugin_state {
 public:
  plugin_state(plugin_config config, broker_api& broker);
  plugin_state(const plugin_state&) = delete;
  plugin_state& operator=(const plugin_state&) = delete;

  /// The hub with its secret; or a device whose username, client id, token, identity and status
  /// pass (README.md, "Device rules"); everyone else is refused (CONNACK 5). An accepted device
  /// is announced on `$hub/conn/{id}`.
  auth_result on_basic_auth(const connect_attempt& attempt);

  /// Every read, write, subscribe and unsubscribe of every client. A device's accepted
  /// subscription is recorded and announced on `$hub/sub/{id}`, an unsubscription on `$hub/unsub/{id}`.
  acl_result on_acl_check(const void* handle, acl_access access, std::string_view topic, int qos);

  /// A publish that passed the ACL check: a device's joins the batch for the hub (`$hub/in`,
  /// core/message_batch.hpp) and is dropped, except telemetry over `max_telemetry_size` (payload
  /// + property bag), which closes the connection; the hub's `$hub/out/...` and `$hub/ctl/out` are
  /// delivered to their clients and dropped, its other `$hub/ctl/...` acted on and dropped.
  message_result on_message(const void* handle, std::string_view topic, std::string_view payload, int qos);

  /// The end of one round of the broker's loop (its TICK event): the batch of device messages
  /// goes to the hub. Everything else the plugin tells the hub sends the batch first, so the hub
  /// sees one device's messages and connection events in the order they happened.
  void on_tick();

  /// A connection ended: a device's is announced on `$hub/disc/{id}`; the hub's makes the plugin
  /// forget the credentials (devices are refused until the next snapshot).
  void on_disconnect(const void* handle);

  // Introspection (tests, logs).
  const plugin_config& config() const noexcept { return config_; }
  const connection_table& connections() const noexcept { return connections_; }
  const credential_store& credentials() const noexcept { return credentials_; }
  bool hub_connected() const noexcept { return hub_.has_value(); }
  /// The time tokens are judged against: pinned by `$hub/ctl/clock`, else the wall clock.
  core::time_point now() const;

 private:
  struct hub_connection {
    const void* handle;
    std::string client_id;
  };

  auth_result authenticate_device(const connect_attempt& attempt);
  acl_result device_access(const connection& device, const void* handle, acl_access access, std::string_view topic,
                           int qos);
  void handle_hub_message(std::string_view topic, std::string_view payload, int qos);
  void set_clock(std::string_view payload);
  void announce(const std::string& topic, const std::string& payload);
  void flush_to_hub();
  auth_result refuse(const connect_attempt& attempt, std::string_view why);

  plugin_config config_;
  broker_api& broker_;
  std::optional<hub_connection> hub_;
  credential_store credentials_;
  connection_table connections_;
  std::optional<core::time_point> pinned_now_;
  std::string to_hub_;  // device messages not yet sent to the hub, framed as a $hub/in batch
};

}  // namespace mockhub::broker_plugin
