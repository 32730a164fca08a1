// The `$hub/...` topics of the plugin <-> hub contract (README.md): one encoder per topic and one
// decoder for all of them, so the plugin and the hub's broker link agree byte for byte.
// A client id is one topic level, percent-encoded with core::url_encode (a module's `dev/mod`
// becomes `dev%2Fmod`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mockhub::broker_plugin {

enum class hub_topic_kind : std::uint8_t {
  // plugin -> hub
  in,        // $hub/in/{id}/{topic} (one message; the plugin sends batches)
  in_batch,  // $hub/in (device messages, core/message_batch.hpp)
  conn,    // $hub/conn/{id}
  disc,    // $hub/disc/{id}
  sub,     // $hub/sub/{id}
  unsub,   // $hub/unsub/{id}
  state,   // $hub/state
  // hub -> plugin
  out,        // $hub/out/{id}/{topic}
  out_batch,  // $hub/ctl/out (QoS 0 messages for many devices, core/message_batch.hpp)
  auth,    // $hub/ctl/auth
  clock,   // $hub/ctl/clock
  kick,    // $hub/ctl/kick/{id}
  resync,  // $hub/ctl/resync
};

/// A decoded `$hub/` topic: `client_id` (decoded) for the kinds that carry one, `topic` for in/out.
struct hub_topic {
  hub_topic_kind kind;
  std::string client_id{};
  std::string topic{};
  bool operator==(const hub_topic&) const = default;
};

namespace hub_topics {
inline constexpr std::string_view prefix = "$hub/";
inline constexpr std::string_view state = "$hub/state";
inline constexpr std::string_view in_batch = "$hub/in";
inline constexpr std::string_view auth = "$hub/ctl/auth";
inline constexpr std::string_view clock = "$hub/ctl/clock";
inline constexpr std::string_view resync = "$hub/ctl/resync";
inline constexpr std::string_view out_batch = "$hub/ctl/out";
/// What the hub subscribes to.
inline constexpr std::string_view all = "$hub/#";

std::string in(std::string_view client_id, std::string_view topic);
std::string out(std::string_view client_id, std::string_view topic);
std::string conn(std::string_view client_id);
std::string disc(std::string_view client_id);
std::string sub(std::string_view client_id);
std::string unsub(std::string_view client_id);
std::string kick(std::string_view client_id);

/// Whether a topic or filter lies in the hub's namespace (`$hub` or `$hub/...`).
bool is_hub_namespace(std::string_view topic_or_filter) noexcept;
}  // namespace hub_topics

/// Decodes any topic of the contract; nullopt for anything else (unknown kind, a missing or
/// badly escaped or empty client id, an empty in/out topic, extra levels).
std::optional<hub_topic> parse_hub_topic(std::string_view topic);

}  // namespace mockhub::broker_plugin
