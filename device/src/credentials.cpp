#include "mockhub/device/credentials.hpp"

#include <charconv>
#include <stdexcept>

#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/sas_token.hpp"

namespace mockhub::device {

std::string make_username(const connection_string& cs, std::string_view client_type) {
  std::string u = cs.host_name + "/" + cs.device_id + "/";
  if (cs.module_id) u += *cs.module_id + "/";
  u += "?api-version=";
  u += api_version;
  u += "&DeviceClientType=" + core::url_encode(client_type);
  return u;
}

std::string make_sas_token(std::string_view resource_uri, std::string_view key, std::int64_t expiry_seconds,
                           std::string_view key_name) {
  try {
    return core::sas_token::create(resource_uri, key, expiry_seconds, key_name);
  } catch (const core::hub_error& e) {
    throw std::invalid_argument(std::string("mockhub::device::make_sas_token: ") + e.what());
  }
}

std::string make_sas_token(std::string_view resource_uri, std::string_view key,
                           std::chrono::system_clock::time_point expiry, std::string_view key_name) {
  const auto se = std::chrono::floor<std::chrono::seconds>(expiry.time_since_epoch()).count();
  return make_sas_token(resource_uri, key, static_cast<std::int64_t>(se), key_name);
}

std::optional<std::int64_t> sas_token_expiry(std::string_view token) {
  const auto space = token.find(' ');
  std::string_view fields = space == std::string_view::npos ? token : token.substr(space + 1);
  while (!fields.empty()) {
    const auto amp = fields.find('&');
    const std::string_view pair = fields.substr(0, amp);
    fields = amp == std::string_view::npos ? std::string_view{} : fields.substr(amp + 1);
    if (pair.starts_with("se=")) {
      std::int64_t se = 0;
      const auto v = pair.substr(3);
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), se);
      if (ec != std::errc{} || end != v.data() + v.size()) return std::nullopt;
      return se;
    }
  }
  return std::nullopt;
}

}  // namespace mockhub::device
