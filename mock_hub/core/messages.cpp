#include "messages.hpp"

#include "time_format.hpp"

namespace mockhub::core {

namespace {
void put(nlohmann::json& j, const char* name, const std::optional<std::string>& v) {
  if (v) j[name] = *v;
}
nlohmann::json to_json_props(const application_properties& p) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : p) j[k] = v ? nlohmann::json(*v) : nlohmann::json();
  return j;
}
}  // namespace

void to_json(nlohmann::json& j, const device_to_cloud_message& m) {
  nlohmann::json sys = nlohmann::json::object();
  put(sys, "messageId", m.system.message_id);
  put(sys, "correlationId", m.system.correlation_id);
  put(sys, "userId", m.system.user_id);
  put(sys, "contentType", m.system.content_type);
  put(sys, "contentEncoding", m.system.content_encoding);
  put(sys, "expiryTimeUtc", m.system.expiry_time_utc);
  put(sys, "to", m.system.to);
  put(sys, "outputName", m.system.output_name);
  put(sys, "interfaceId", m.system.interface_id);
  j = {{"deviceId", m.device_id},
       {"body", m.body},
       {"systemProperties", sys},
       {"applicationProperties", to_json_props(m.application)},
       {"enqueuedTime", format_time(m.enqueued_time)},
       {"sequenceNumber", m.sequence_number}};
}

void to_json(nlohmann::json& j, const cloud_to_device_message& m) {
  j = {{"body", m.body}, {"to", m.to}, {"applicationProperties", to_json_props(m.application)}};
  put(j, "messageId", m.message_id);
  put(j, "correlationId", m.correlation_id);
  put(j, "userId", m.user_id);
  put(j, "contentType", m.content_type);
  put(j, "contentEncoding", m.content_encoding);
  put(j, "ack", m.ack);
  if (m.expiry) j["expiryTimeUtc"] = format_time(*m.expiry);
}

}  // namespace mockhub::core
