#include "property_bag.hpp"

#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/time_format.hpp"

namespace mockhub::broker_link {

std::optional<decoded_properties> decode_property_bag(std::string_view bag) {
  auto pairs = core::parse_property_bag(bag);
  if (!pairs) return std::nullopt;
  decoded_properties out;
  for (auto& [k, value] : *pairs) {
    auto& s = out.system;
    if (k == "$.mid") s.message_id = value;
    else if (k == "$.cid") s.correlation_id = value;
    else if (k == "$.uid") s.user_id = value;
    else if (k == "$.ct") s.content_type = value;
    else if (k == "$.ce") s.content_encoding = value;
    else if (k == "$.exp") s.expiry_time_utc = value;
    else if (k == "$.to") s.to = value;
    else if (k == "$.on") s.output_name = value;
    else if (k == "$.ifid") s.interface_id = value;
    else out.application[k] = std::move(value);
  }
  return out;
}

std::string encode_property_bag(const core::cloud_to_device_message& m) {
  core::property_list bag;
  auto add = [&bag](std::string key, const std::optional<std::string>& value) { bag.emplace_back(std::move(key), value); };
  if (m.message_id) add("$.mid", m.message_id);
  if (m.correlation_id) add("$.cid", m.correlation_id);
  if (m.user_id) add("$.uid", m.user_id);
  if (m.content_type) add("$.ct", m.content_type);
  if (m.content_encoding) add("$.ce", m.content_encoding);
  if (!m.to.empty()) add("$.to", m.to);
  if (m.expiry) add("$.exp", core::format_time(*m.expiry));
  if (m.ack) add("iothub-ack", m.ack);
  for (const auto& [k, v] : m.application) add(k, v);
  return core::format_property_bag(bag);
}

}  // namespace mockhub::broker_link
