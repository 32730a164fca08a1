#include "mockhub/device/topics.hpp"

#include <charconv>

#include "mock_hub/core/encoding.hpp"

namespace mockhub::device::topics {

namespace {

template <class Int>
std::optional<Int> to_int(std::string_view text) {
  Int v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string cloud_to_device_filter(std::string_view device_id) {
  return "devices/" + std::string(device_id) + "/messages/devicebound/#";
}

std::string telemetry(std::string_view device_id, const message& m) {
  return "devices/" + std::string(device_id) + "/messages/events/" + encode_property_bag(m);
}

std::string method_response(int status, std::string_view request_id) {
  return "$iothub/methods/res/" + std::to_string(status) + "/?$rid=" + core::url_encode(request_id);
}

std::string twin_get(std::string_view request_id) { return "$iothub/twin/GET/?$rid=" + core::url_encode(request_id); }

std::string twin_patch_reported(std::string_view request_id) {
  return "$iothub/twin/PATCH/properties/reported/?$rid=" + core::url_encode(request_id);
}

std::optional<method_request_topic> parse_method_request(std::string_view topic) {
  static constexpr std::string_view prefix = "$iothub/methods/POST/";
  if (!topic.starts_with(prefix)) return std::nullopt;
  std::string_view rest = topic.substr(prefix.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  auto name = core::url_decode(rest.substr(0, slash));
  auto rid = core::topic_query_value(rest.substr(slash), "$rid");
  if (!name || !rid) return std::nullopt;
  return method_request_topic{std::move(*name), std::move(*rid)};
}

std::optional<twin_response_topic> parse_twin_response(std::string_view topic) {
  static constexpr std::string_view prefix = "$iothub/twin/res/";
  if (!topic.starts_with(prefix)) return std::nullopt;
  std::string_view rest = topic.substr(prefix.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto status = to_int<int>(rest.substr(0, slash));
  auto rid = core::topic_query_value(rest.substr(slash), "$rid");
  if (!status || !rid) return std::nullopt;
  twin_response_topic t{*status, std::move(*rid), std::nullopt};
  if (const auto v = core::topic_query_value(rest.substr(slash), "$version")) t.version = to_int<std::int64_t>(*v);
  return t;
}

std::optional<std::int64_t> parse_desired_patch(std::string_view topic) {
  static constexpr std::string_view prefix = "$iothub/twin/PATCH/properties/desired/";
  if (!topic.starts_with(prefix)) return std::nullopt;
  if (const auto v = core::topic_query_value(topic.substr(prefix.size()), "$version")) return to_int<std::int64_t>(*v).value_or(0);
  return 0;
}

std::optional<message> parse_cloud_to_device(std::string_view topic, std::string_view device_id) {
  const std::string prefix = "devices/" + std::string(device_id) + "/messages/devicebound/";
  if (!topic.starts_with(prefix)) return std::nullopt;
  std::string_view bag = topic.substr(prefix.size());
  if (bag.starts_with('?')) bag.remove_prefix(1);
  return decode_property_bag(bag);
}

}  // namespace mockhub::device::topics
