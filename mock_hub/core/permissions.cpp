#include "permissions.hpp"
#include "ascii.hpp"

#include <algorithm>
#include <array>

namespace mockhub::core {

namespace {
constexpr std::array all_permissions = {permission::registry_read, permission::registry_write,
                                        permission::service_connect, permission::device_connect};
}  // namespace

std::string_view to_string(permission p) noexcept {
  switch (p) {
    case permission::registry_read: return "RegistryRead";
    case permission::registry_write: return "RegistryWrite";
    case permission::service_connect: return "ServiceConnect";
    case permission::device_connect: return "DeviceConnect";
  }
  return "";
}

std::string to_string(permissions p) {
  std::string out;
  for (const permission each : all_permissions) {
    if (!p.contains(each)) continue;
    if (!out.empty()) out += ", ";
    out += to_string(each);
  }
  return out;
}

std::optional<permissions> parse_permissions(std::string_view text) {
  permissions result;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = std::min(text.find_first_of(", ", pos), text.size());
    const std::string_view name = text.substr(pos, end - pos);
    pos = end + 1;
    if (name.empty()) continue;
    bool known = false;
    for (const permission each : all_permissions) {
      if (iequals(name, to_string(each))) {
        result |= each;
        known = true;
      }
    }
    if (!known) return std::nullopt;
  }
  if (result.empty()) return std::nullopt;
  return result;
}

}  // namespace mockhub::core
