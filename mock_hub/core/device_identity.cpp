#include "device_identity.hpp"

#include "time_format.hpp"

namespace mockhub::core {

std::string_view to_string(device_status s) noexcept { return s == device_status::enabled ? "enabled" : "disabled"; }

std::string_view to_string(connection_state s) noexcept {
  return s == connection_state::connected ? "Connected" : "Disconnected";
}

std::string_view to_string(authentication_type t) noexcept {
  switch (t) {
    case authentication_type::sas: return "sas";
    case authentication_type::self_signed: return "selfSigned";
    case authentication_type::certificate_authority: return "certificateAuthority";
    case authentication_type::none: return "none";
  }
  return "none";
}

namespace {
nlohmann::json optional_string(const std::optional<std::string>& s) { return s ? nlohmann::json(*s) : nlohmann::json(); }
}  // namespace

void to_json(nlohmann::json& j, const device_identity& d) {
  const bool sas = d.auth_type == authentication_type::sas;
  j = nlohmann::json{
      {"deviceId", d.device_id},
      {"generationId", d.generation_id},
      {"etag", d.etag},
      {"connectionState", to_string(d.connection)},
      {"status", to_string(d.status)},
      {"statusReason", d.status_reason.empty() ? nlohmann::json() : nlohmann::json(d.status_reason)},
      {"connectionStateUpdatedTime", format_time(d.connection_state_updated_time)},
      {"statusUpdatedTime", format_time(d.status_updated_time)},
      {"lastActivityTime", format_time(d.last_activity_time)},
      {"cloudToDeviceMessageCount", d.cloud_to_device_message_count},
      {"authentication",
       {{"symmetricKey",
         {{"primaryKey", sas ? nlohmann::json(d.primary_key) : nlohmann::json()},
          {"secondaryKey", sas ? nlohmann::json(d.secondary_key) : nlohmann::json()}}},
        {"x509Thumbprint",
         {{"primaryThumbprint", optional_string(d.primary_thumbprint)},
          {"secondaryThumbprint", optional_string(d.secondary_thumbprint)}}},
        {"type", to_string(d.auth_type)}}},
      {"capabilities", {{"iotEdge", d.iot_edge}}},
  };
  if (!d.device_scope.empty()) j["deviceScope"] = d.device_scope;
  if (!d.parent_scopes.empty()) j["parentScopes"] = d.parent_scopes;
}

}  // namespace mockhub::core
