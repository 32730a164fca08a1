#include "mockhub/device/message.hpp"

#include "mock_hub/core/encoding.hpp"

namespace mockhub::device {

std::string encode_property_bag(const message& m) {
  core::property_list bag;
  auto add = [&bag](const char* key, const std::optional<std::string>& value) {
    if (value) bag.emplace_back(key, value);
  };
  add("$.mid", m.message_id);
  add("$.cid", m.correlation_id);
  add("$.uid", m.user_id);
  add("$.ct", m.content_type);
  add("$.ce", m.content_encoding);
  add("$.exp", m.expiry_time_utc);
  add("$.to", m.to);
  for (const auto& [k, v] : m.properties) bag.emplace_back(k, v);
  return core::format_property_bag(bag);
}

std::optional<message> decode_property_bag(std::string_view bag) {
  auto pairs = core::parse_property_bag(bag);
  if (!pairs) return std::nullopt;
  message m;
  for (auto& [k, v] : *pairs) {
    if (k == "$.mid") m.message_id = std::move(v);
    else if (k == "$.cid") m.correlation_id = std::move(v);
    else if (k == "$.uid") m.user_id = std::move(v);
    else if (k == "$.ct") m.content_type = std::move(v);
    else if (k == "$.ce") m.content_encoding = std::move(v);
    else if (k == "$.exp") m.expiry_time_utc = std::move(v);
    else if (k == "$.to") m.to = std::move(v);
    else m.properties[k] = std::move(v);
  }
  return m;
}

}  // namespace mockhub::device
