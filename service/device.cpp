#include "device.hpp"

#include <nlohmann/json.hpp>

#include "json_members.hpp"

namespace mockhub::service {

using nlohmann::json;

const char* to_string(device_status s) noexcept { return s == device_status::disabled ? "disabled" : "enabled"; }

const char* to_string(connection_state s) noexcept {
  return s == connection_state::connected ? "Connected" : "Disconnected";
}

const char* to_string(authentication_type t) noexcept {
  switch (t) {
    case authentication_type::self_signed: return "selfSigned";
    case authentication_type::certificate_authority: return "certificateAuthority";
    case authentication_type::none: return "none";
    case authentication_type::sas: break;
  }
  return "sas";
}

void to_json(json& j, const device& d) {
  j = json{{"deviceId", d.device_id}, {"status", to_string(d.status)}};
  if (!d.etag.empty()) j["etag"] = d.etag;
  if (!d.status_reason.empty()) j["statusReason"] = d.status_reason;
  json auth{{"type", to_string(d.authentication)}};
  if (d.authentication == authentication_type::sas)
    auth["symmetricKey"] = {{"primaryKey", d.primary_key}, {"secondaryKey", d.secondary_key}};
  if (d.authentication == authentication_type::self_signed)
    auth["x509Thumbprint"] = {{"primaryThumbprint", d.primary_thumbprint}, {"secondaryThumbprint", d.secondary_thumbprint}};
  j["authentication"] = std::move(auth);
  j["capabilities"] = {{"iotEdge", d.iot_edge}};
  if (!d.device_scope.empty()) j["deviceScope"] = d.device_scope;
  if (!d.parent_scopes.empty()) j["parentScopes"] = d.parent_scopes;
}

void from_json(const json& j, device& d) {
  using detail::get_string;
  d = device{};
  d.device_id = get_string(j, "deviceId");
  d.generation_id = get_string(j, "generationId");
  d.etag = get_string(j, "etag");
  d.status = get_string(j, "status") == "disabled" ? device_status::disabled : device_status::enabled;
  d.status_reason = get_string(j, "statusReason");
  d.connection = get_string(j, "connectionState") == "Connected" ? connection_state::connected : connection_state::disconnected;
  d.connection_state_updated_time = get_string(j, "connectionStateUpdatedTime");
  d.status_updated_time = get_string(j, "statusUpdatedTime");
  d.last_activity_time = get_string(j, "lastActivityTime");
  d.cloud_to_device_message_count = detail::get_int(j, "cloudToDeviceMessageCount");
  if (const json* auth = detail::find_object(j, "authentication")) {
    const std::string type = get_string(*auth, "type");
    if (type == "selfSigned") d.authentication = authentication_type::self_signed;
    else if (type == "certificateAuthority") d.authentication = authentication_type::certificate_authority;
    else if (type == "none") d.authentication = authentication_type::none;
    if (const json* keys = detail::find_object(*auth, "symmetricKey")) {
      d.primary_key = get_string(*keys, "primaryKey");
      d.secondary_key = get_string(*keys, "secondaryKey");
    }
    if (const json* prints = detail::find_object(*auth, "x509Thumbprint")) {
      d.primary_thumbprint = get_string(*prints, "primaryThumbprint");
      d.secondary_thumbprint = get_string(*prints, "secondaryThumbprint");
    }
  }
  if (const json* caps = detail::find_object(j, "capabilities"))
    if (const auto e = caps->find("iotEdge"); e != caps->end() && e->is_boolean()) d.iot_edge = e->get<bool>();
  d.device_scope = get_string(j, "deviceScope");
  if (const auto p = j.find("parentScopes"); p != j.end() && p->is_array())
    for (const auto& s : *p)
      if (s.is_string()) d.parent_scopes.push_back(s.get<std::string>());
  d.document = j;
}

void from_json(const json& j, device_statistics& s) {
  s.total_device_count = detail::get_int(j, "totalDeviceCount");
  s.enabled_device_count = detail::get_int(j, "enabledDeviceCount");
  s.disabled_device_count = detail::get_int(j, "disabledDeviceCount");
}

void from_json(const json& j, service_statistics& s) { s.connected_device_count = detail::get_int(j, "connectedDeviceCount"); }

}  // namespace mockhub::service
