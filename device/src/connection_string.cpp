#include "mockhub/device/connection_string.hpp"

#include <charconv>
#include <map>

#include "mock_hub/core/encoding.hpp"

namespace mockhub::device {

namespace {

[[noreturn]] void fail(const std::string& why) { throw connection_string_error("Malformed device connection string: " + why); }

}  // namespace

connection_string connection_string::parse(std::string_view text) {
  std::map<std::string, std::string, std::less<>> fields;
  while (!text.empty()) {
    const auto semi = text.find(';');
    std::string_view segment = text.substr(0, semi);
    text = semi == std::string_view::npos ? std::string_view{} : text.substr(semi + 1);
    if (segment.empty()) {
      if (text.empty()) break;  // a trailing ';'
      fail("an empty segment (';;')");
    }
    const auto eq = segment.find('=');
    if (eq == std::string_view::npos) fail("the segment '" + std::string(segment.substr(0, 40)) + "' has no '='");
    const std::string name(segment.substr(0, eq));
    const std::string_view value = segment.substr(eq + 1);
    if (name.empty()) fail("a segment has an empty name");
    static const char* known[] = {"HostName", "DeviceId", "ModuleId", "SharedAccessKey", "SharedAccessKeyName",
                                  "SharedAccessSignature", "GatewayHostName"};
    bool is_known = false;
    for (const char* k : known) is_known = is_known || name == k;
    if (!is_known) fail("unknown field '" + name + "' (field names are case-sensitive)");
    if (value.empty()) fail(name + " is empty");
    if (!fields.emplace(name, std::string(value)).second) fail(name + " appears twice");
  }
  auto take = [&fields](const char* name) -> std::optional<std::string> {
    auto it = fields.find(name);
    if (it == fields.end()) return std::nullopt;
    return it->second;
  };
  connection_string cs;
  auto host = take("HostName");
  if (!host) fail("HostName is missing");
  auto device = take("DeviceId");
  if (!device) fail("DeviceId is missing");
  cs.host_name = *host;
  cs.device_id = *device;
  cs.module_id = take("ModuleId");
  cs.shared_access_key = take("SharedAccessKey");
  cs.shared_access_key_name = take("SharedAccessKeyName");
  cs.shared_access_signature = take("SharedAccessSignature");
  if (!cs.shared_access_key && !cs.shared_access_signature)
    fail("neither SharedAccessKey nor SharedAccessSignature is given (X.509 is not supported)");
  if (cs.shared_access_key && cs.shared_access_signature) fail("both SharedAccessKey and SharedAccessSignature are given");
  if (cs.shared_access_key_name && !cs.shared_access_key) fail("SharedAccessKeyName is given without SharedAccessKey");
  if (cs.shared_access_key) {
    const auto raw = core::base64_decode(*cs.shared_access_key);
    if (!raw || raw->empty()) fail("SharedAccessKey is not base64");
  }
  if (auto gw = take("GatewayHostName")) {
    // `host` or `host:port` (an IPv6 literal goes in brackets: `[::1]:8883`).
    const auto bracket = gw->find(']');
    const auto colon = gw->rfind(':');
    if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
      const std::string_view port_text = std::string_view(*gw).substr(colon + 1);
      unsigned port = 0;
      const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
      if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
        fail("GatewayHostName has a bad port '" + std::string(port_text) + "' (want 1..65535)");
      cs.gateway_host = gw->substr(0, colon);
      cs.gateway_port = static_cast<std::uint16_t>(port);
    } else {
      cs.gateway_host = *gw;
    }
    if (cs.gateway_host->size() >= 2 && cs.gateway_host->front() == '[' && cs.gateway_host->back() == ']')
      cs.gateway_host = cs.gateway_host->substr(1, cs.gateway_host->size() - 2);
    if (cs.gateway_host->empty()) fail("GatewayHostName has no host");
  }
  return cs;
}

std::string connection_string::resource_uri() const {
  std::string r = host_name + "/devices/" + device_id;
  if (module_id) r += "/modules/" + *module_id;
  return r;
}

std::string connection_string::client_id() const { return module_id ? device_id + "/" + *module_id : device_id; }

std::string connection_string::to_string() const {
  std::string s = "HostName=" + host_name + ";DeviceId=" + device_id;
  if (module_id) s += ";ModuleId=" + *module_id;
  if (shared_access_key_name) s += ";SharedAccessKeyName=" + *shared_access_key_name;
  if (shared_access_key) s += ";SharedAccessKey=" + *shared_access_key;
  if (shared_access_signature) s += ";SharedAccessSignature=" + *shared_access_signature;
  if (gateway_host) {
    s += ";GatewayHostName=" + *gateway_host;
    if (gateway_port) s += ":" + std::to_string(*gateway_port);
  }
  return s;
}

}  // namespace mockhub::device
