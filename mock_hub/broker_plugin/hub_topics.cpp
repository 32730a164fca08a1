#include "hub_topics.hpp"

#include <array>
#include <utility>

#include "mock_hub/core/encoding.hpp"

namespace mockhub::broker_plugin {

namespace hub_topics {

namespace {
std::string with_id(std::string_view base, std::string_view client_id) {
  return std::string(base) + core::url_encode(client_id);
}
}  // namespace

std::string in(std::string_view client_id, std::string_view topic) {
  return with_id("$hub/in/", client_id) + "/" + std::string(topic);
}
std::string out(std::string_view client_id, std::string_view topic) {
  return with_id("$hub/out/", client_id) + "/" + std::string(topic);
}
std::string conn(std::string_view client_id) { return with_id("$hub/conn/", client_id); }
std::string disc(std::string_view client_id) { return with_id("$hub/disc/", client_id); }
std::string sub(std::string_view client_id) { return with_id("$hub/sub/", client_id); }
std::string unsub(std::string_view client_id) { return with_id("$hub/unsub/", client_id); }
std::string kick(std::string_view client_id) { return with_id("$hub/ctl/kick/", client_id); }

bool is_hub_namespace(std::string_view topic_or_filter) noexcept {
  return topic_or_filter == "$hub" || topic_or_filter.starts_with(prefix);
}

}  // namespace hub_topics

namespace {

/// A client id level: non-empty, well escaped, non-empty once decoded.
std::optional<std::string> decode_id(std::string_view level) {
  if (level.empty()) return std::nullopt;
  auto id = core::url_decode(level);
  if (!id || id->empty()) return std::nullopt;
  return id;
}

/// `{id}/{topic}` with both parts present.
std::optional<hub_topic> id_and_topic(hub_topic_kind kind, std::string_view rest) {
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 == rest.size()) return std::nullopt;
  auto id = decode_id(rest.substr(0, slash));
  if (!id) return std::nullopt;
  return hub_topic{.kind = kind, .client_id = std::move(*id), .topic = std::string(rest.substr(slash + 1))};
}

/// `{id}` and nothing more.
std::optional<hub_topic> id_only(hub_topic_kind kind, std::string_view rest) {
  if (rest.find('/') != std::string_view::npos) return std::nullopt;
  auto id = decode_id(rest);
  if (!id) return std::nullopt;
  return hub_topic{.kind = kind, .client_id = std::move(*id)};
}

}  // namespace

std::optional<hub_topic> parse_hub_topic(std::string_view topic) {
  if (!topic.starts_with(hub_topics::prefix)) return std::nullopt;
  if (topic == hub_topics::state) return hub_topic{.kind = hub_topic_kind::state};
  if (topic == hub_topics::in_batch) return hub_topic{.kind = hub_topic_kind::in_batch};
  if (topic == hub_topics::auth) return hub_topic{.kind = hub_topic_kind::auth};
  if (topic == hub_topics::clock) return hub_topic{.kind = hub_topic_kind::clock};
  if (topic == hub_topics::resync) return hub_topic{.kind = hub_topic_kind::resync};
  if (topic == hub_topics::out_batch) return hub_topic{.kind = hub_topic_kind::out_batch};

  struct level {
    std::string_view base;
    hub_topic_kind kind;
    bool carries_topic;
  };
  static constexpr std::array levels{
      level{"$hub/in/", hub_topic_kind::in, true},         level{"$hub/out/", hub_topic_kind::out, true},
      level{"$hub/conn/", hub_topic_kind::conn, false},    level{"$hub/disc/", hub_topic_kind::disc, false},
      level{"$hub/sub/", hub_topic_kind::sub, false},      level{"$hub/unsub/", hub_topic_kind::unsub, false},
      level{"$hub/ctl/kick/", hub_topic_kind::kick, false},
  };
  for (const level& l : levels) {
    if (!topic.starts_with(l.base)) continue;
    const std::string_view rest = topic.substr(l.base.size());
    return l.carries_topic ? id_and_topic(l.kind, rest) : id_only(l.kind, rest);
  }
  return std::nullopt;
}

}  // namespace mockhub::broker_plugin
