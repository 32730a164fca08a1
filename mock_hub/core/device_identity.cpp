#include "device_identity.hpp"

#include "errors.hpp"
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

namespace {
using nlohmann::json;

const json* member(const json& body, const char* name) {
  const auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> string_member(const json& body, const char* name, std::string_view where) {
  const json* m = member(body, name);
  if (!m) return std::nullopt;
  if (!m->is_string()) throw errors::argument_invalid("Device member '" + std::string(where) + "' must be a string.");
  return m->get<std::string>();
}

std::optional<bool> bool_member(const json& body, const char* name, std::string_view where) {
  const json* m = member(body, name);
  if (!m) return std::nullopt;
  if (!m->is_boolean()) throw errors::argument_invalid("Device member '" + std::string(where) + "' must be true or false.");
  return m->get<bool>();
}

const json* object_member(const json& body, const char* name, std::string_view where) {
  const json* m = member(body, name);
  if (m && !m->is_object()) throw errors::argument_invalid("Device member '" + std::string(where) + "' must be an object.");
  return m;
}
}  // namespace

device_identity_request device_identity_request::from_json(const json& body) {
  if (!body.is_object()) throw errors::argument_invalid("The device body must be a JSON object.");
  device_identity_request r;
  r.device_id = string_member(body, "deviceId", "deviceId").value_or("");
  r.etag = string_member(body, "etag", "etag");
  if (const auto s = string_member(body, "status", "status")) {
    if (*s == "enabled") r.status = device_status::enabled;
    else if (*s == "disabled") r.status = device_status::disabled;
    else throw errors::argument_invalid("Device status '" + *s + "' is not valid: use 'enabled' or 'disabled'.");
  }
  r.status_reason = string_member(body, "statusReason", "statusReason");
  if (const json* auth = object_member(body, "authentication", "authentication")) {
    if (const auto t = string_member(*auth, "type", "authentication.type")) {
      if (*t == "sas") r.auth_type = authentication_type::sas;
      else if (*t == "selfSigned") r.auth_type = authentication_type::self_signed;
      else if (*t == "certificateAuthority") r.auth_type = authentication_type::certificate_authority;
      else if (*t == "none") r.auth_type = authentication_type::none;
      else
        throw errors::argument_invalid("Authentication type '" + *t +
                                       "' is not valid: use 'sas', 'selfSigned', 'certificateAuthority' or 'none'.");
    }
    if (const json* keys = object_member(*auth, "symmetricKey", "authentication.symmetricKey")) {
      r.primary_key = string_member(*keys, "primaryKey", "authentication.symmetricKey.primaryKey");
      r.secondary_key = string_member(*keys, "secondaryKey", "authentication.symmetricKey.secondaryKey");
    }
    if (const json* prints = object_member(*auth, "x509Thumbprint", "authentication.x509Thumbprint")) {
      r.primary_thumbprint = string_member(*prints, "primaryThumbprint", "authentication.x509Thumbprint.primaryThumbprint");
      r.secondary_thumbprint =
          string_member(*prints, "secondaryThumbprint", "authentication.x509Thumbprint.secondaryThumbprint");
    }
  }
  if (const json* caps = object_member(body, "capabilities", "capabilities"))
    r.iot_edge = bool_member(*caps, "iotEdge", "capabilities.iotEdge");
  r.device_scope = string_member(body, "deviceScope", "deviceScope");
  if (const json* scopes = member(body, "parentScopes")) {
    if (!scopes->is_array()) throw errors::argument_invalid("Device member 'parentScopes' must be an array of strings.");
    std::vector<std::string> v;
    for (const auto& s : *scopes) {
      if (!s.is_string()) throw errors::argument_invalid("Device member 'parentScopes' must be an array of strings.");
      v.push_back(s.get<std::string>());
    }
    r.parent_scopes = std::move(v);
  }
  return r;
}

void validate_device_id(std::string_view id) {
  static constexpr std::string_view extra = "-:.+%_#*?!(),=@;$'";
  if (id.empty()) throw errors::argument_invalid("The device id is empty; it must be 1 to 128 characters.");
  if (id.size() > 128)
    throw errors::argument_invalid("Device id '" + std::string(id.substr(0, 32)) + "...' is " +
                                   std::to_string(id.size()) + " characters long; at most 128 are allowed.");
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    extra.find(c) != std::string_view::npos;
    if (!ok)
      throw errors::argument_invalid("Device id '" + std::string(id) +
                                     "' is not valid: only ASCII letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ ' "
                                     "are allowed.");
  }
}

}  // namespace mockhub::core
