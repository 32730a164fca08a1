#include "credential_store.hpp"

#include <optional>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

namespace mockhub::broker_plugin {

namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& why) { throw std::invalid_argument("$hub/ctl/auth: " + why); }

std::string string_member(const json& object, const char* name, const std::string& where, bool required = false) {
  const auto it = object.find(name);
  if (it == object.end() || (it->is_null() && !required)) {
    if (required) bad(where + " has no '" + name + "'");
    return {};
  }
  if (!it->is_string()) bad(where + "'s '" + name + "' is not a string");
  return it->get<std::string>();
}

bool bool_member(const json& object, const char* name, const std::string& where, bool fallback) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) bad(where + "'s '" + name + "' is not true or false");
  return it->get<bool>();
}

device_credentials parse_device(const std::string& id, const json& entry) {
  const std::string where = "device '" + id + "'";
  if (!entry.is_object()) bad(where + " is not an object");
  return device_credentials{.primary_key = string_member(entry, "primary", where),
                            .secondary_key = string_member(entry, "secondary", where),
                            .enabled = bool_member(entry, "enabled", where, true)};
}

std::vector<core::shared_access_policy> parse_policies(const json& list) {
  if (!list.is_array()) bad("'policies' is not an array");
  std::vector<core::shared_access_policy> policies;
  for (const json& entry : list) {
    if (!entry.is_object()) bad("a policy is not an object");
    const std::string name = string_member(entry, "name", "a policy", /*required=*/true);
    if (name.empty()) bad("a policy has an empty name");
    const std::string where = "policy '" + name + "'";
    core::shared_access_policy policy{.name = name,
                                      .primary_key = string_member(entry, "primary", where),
                                      .secondary_key = string_member(entry, "secondary", where)};
    if (bool_member(entry, "device_connect", where, false)) policy.rights = core::permission::device_connect;
    policies.push_back(std::move(policy));
  }
  return policies;
}

/// Each id of a `devices` member with its credentials, or nullopt (null: remove it).
using device_updates = std::vector<std::pair<std::string, std::optional<device_credentials>>>;

device_updates parse_devices(const json& devices, bool allow_null) {
  if (!devices.is_object()) bad("'devices' is not an object");
  device_updates parsed;
  parsed.reserve(devices.size());
  for (const auto& [id, entry] : devices.items()) {
    if (id.empty()) bad("a device has an empty id");
    if (entry.is_null()) {
      if (!allow_null) bad("device '" + id + "' is null in a snapshot");
      parsed.emplace_back(id, std::nullopt);
    } else {
      parsed.emplace_back(id, parse_device(id, entry));
    }
  }
  return parsed;
}

}  // namespace

void credential_store::apply(std::string_view payload) {
  json message = json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded()) bad("the payload is not JSON");
  apply_json(message);
}

void credential_store::apply_json(const json& message) {
  if (!message.is_object()) bad("the payload is not a JSON object");
  const std::string mode = string_member(message, "mode", "the message", /*required=*/true);
  const auto devices = message.find("devices");
  const auto policies = message.find("policies");

  if (mode == "snapshot") {
    const std::string host = string_member(message, "host", "a snapshot", /*required=*/true);
    if (host.empty()) bad("a snapshot has an empty host");
    auto parsed_devices =
        devices == message.end() ? device_updates{} : parse_devices(*devices, /*allow_null=*/false);
    auto parsed_policies =
        policies == message.end() ? std::vector<core::shared_access_policy>{} : parse_policies(*policies);
    // Everything parsed: commit.
    std::map<std::string, device_credentials, std::less<>> fresh;
    for (auto& [id, credentials] : parsed_devices) fresh.insert_or_assign(std::move(id), std::move(*credentials));
    devices_ = std::move(fresh);
    policies_ = std::move(parsed_policies);
    host_ = host;
    ready_ = true;
    return;
  }
  if (mode == "delta") {
    if (!ready_) bad("a delta arrived before any snapshot");
    std::optional<std::string> host;
    if (message.contains("host")) {
      host = string_member(message, "host", "a delta", /*required=*/true);
      if (host->empty()) bad("a delta has an empty host");
    }
    auto parsed_devices = devices == message.end() ? device_updates{} : parse_devices(*devices, /*allow_null=*/true);
    std::optional<std::vector<core::shared_access_policy>> parsed_policies;
    if (policies != message.end()) parsed_policies = parse_policies(*policies);
    // Everything parsed: commit.
    for (auto& [id, credentials] : parsed_devices) {
      if (credentials) {
        devices_.insert_or_assign(std::move(id), std::move(*credentials));
      } else if (const auto it = devices_.find(id); it != devices_.end()) {
        devices_.erase(it);
      }
    }
    if (parsed_policies) policies_ = std::move(*parsed_policies);
    if (host) host_ = std::move(*host);
    return;
  }
  bad("unknown mode '" + mode + "' (snapshot or delta)");
}

void credential_store::clear() noexcept {
  ready_ = false;
  host_.clear();
  devices_.clear();
  policies_.clear();
}

const device_credentials* credential_store::find(std::string_view client_id) const {
  const auto it = devices_.find(client_id);
  return it == devices_.end() ? nullptr : &it->second;
}

}  // namespace mockhub::broker_plugin
