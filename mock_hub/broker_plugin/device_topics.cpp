#include "device_topics.hpp"

#include <charconv>
#include <cstdint>

#include "mock_hub/core/encoding.hpp"

namespace mockhub::broker_plugin {

namespace {

constexpr std::string_view methods_filter = "$iothub/methods/POST/#";
constexpr std::string_view twin_responses_filter = "$iothub/twin/res/#";
constexpr std::string_view desired_patches_filter = "$iothub/twin/PATCH/properties/desired/#";
constexpr std::string_view twin_get_prefix = "$iothub/twin/GET/?";
constexpr std::string_view reported_prefix = "$iothub/twin/PATCH/properties/reported/?";
constexpr std::string_view method_response_prefix = "$iothub/methods/res/";

/// `devices/{id}/` or `devices/{id}/modules/{mid}/`: where the identity's own topics start.
std::string identity_prefix(const topic_identity& who) {
  std::string prefix = "devices/";
  prefix += who.device_id;
  prefix += '/';
  if (who.module_id) {
    prefix += "modules/";
    prefix += *who.module_id;
    prefix += '/';
  }
  return prefix;
}

/// `topic` is `base` or lies below it (`base/...`).
bool is_at_or_below(std::string_view topic, std::string_view base) {
  return topic.starts_with(base) && (topic.size() == base.size() || topic[base.size()] == '/');
}

/// An integer status as the SDKs write it: optional '-', decimal digits, within 32 bits.
bool is_integer_status(std::string_view text) {
  if (text.empty()) return false;
  std::int32_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string_view to_string(publish_kind kind) noexcept {
  switch (kind) {
    case publish_kind::telemetry: return "telemetry";
    case publish_kind::twin_get: return "twin GET";
    case publish_kind::twin_reported_patch: return "reported PATCH";
    case publish_kind::method_response: return "method response";
  }
  return "?";
}

std::string_view to_string(filter_kind kind) noexcept {
  switch (kind) {
    case filter_kind::methods: return "methods";
    case filter_kind::twin_responses: return "twin responses";
    case filter_kind::desired_patches: return "desired patches";
    case filter_kind::cloud_to_device: return "cloud-to-device";
  }
  return "?";
}

std::optional<std::string> request_id(std::string_view topic) {
  const std::size_t q = topic.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = topic.substr(q + 1);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    const auto key = core::url_decode(pair.substr(0, eq));
    if (!key || *key != "$rid") continue;
    const std::string_view value = pair.substr(eq + 1);
    if (value.empty() || value.size() > max_request_id_bytes) return std::nullopt;
    return std::string(value);
  }
  return std::nullopt;
}

std::optional<publish_kind> classify_publish(std::string_view topic, const topic_identity& who) {
  if (topic.starts_with("$iothub/")) {
    if (topic.starts_with(twin_get_prefix)) {
      return request_id(topic) ? std::optional(publish_kind::twin_get) : std::nullopt;
    }
    if (topic.starts_with(reported_prefix)) {
      return request_id(topic) ? std::optional(publish_kind::twin_reported_patch) : std::nullopt;
    }
    if (topic.starts_with(method_response_prefix)) {
      const std::string_view rest = topic.substr(method_response_prefix.size());
      const std::size_t slash = rest.find('/');
      if (slash == std::string_view::npos || !rest.substr(slash).starts_with("/?")) return std::nullopt;
      if (!is_integer_status(rest.substr(0, slash))) return std::nullopt;
      return request_id(topic) ? std::optional(publish_kind::method_response) : std::nullopt;
    }
    return std::nullopt;
  }
  const std::string events = identity_prefix(who) + "messages/events";
  if (is_at_or_below(topic, events)) return publish_kind::telemetry;
  return std::nullopt;
}

std::string_view telemetry_property_bag(std::string_view topic, const topic_identity& who) {
  const std::string events = identity_prefix(who) + "messages/events/";
  return topic.starts_with(events) ? topic.substr(events.size()) : std::string_view();
}

std::optional<filter_kind> classify_filter(std::string_view filter, const topic_identity& who) {
  if (filter == methods_filter) return filter_kind::methods;
  if (filter == twin_responses_filter) return filter_kind::twin_responses;
  if (filter == desired_patches_filter) return filter_kind::desired_patches;
  const std::string own = identity_prefix(who);
  const std::string cloud_to_device = who.module_id ? own + "#" : own + "messages/devicebound/#";
  if (filter == cloud_to_device) return filter_kind::cloud_to_device;
  return std::nullopt;
}

bool may_read(std::string_view topic, const topic_identity& who) {
  if (topic.starts_with("$iothub/")) return true;
  const std::string own = identity_prefix(who);
  if (who.module_id) return topic.starts_with(own);
  return is_at_or_below(topic, own + "messages/devicebound");
}

}  // namespace mockhub::broker_plugin
