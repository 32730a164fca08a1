// IoT Hub permissions (reference/iothub-protocol.md section 2.3) and a small set of them.
//
// - RegistryRead / RegistryWrite: read, or read and write, the identity registry.
// - ServiceConnect: the service-facing endpoints (C2D, twin tags and desired properties,
//   queries, direct methods, jobs).
// - DeviceConnect: the device-facing endpoints (D2C, C2D receive, reported properties); a policy
//   with it can mint a token for any device.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mockhub::core {

enum class permission : std::uint8_t {
  registry_read = 1u << 0,
  registry_write = 1u << 1,
  service_connect = 1u << 2,
  device_connect = 1u << 3,
};

/// A set of permissions. A single `permission` converts to the set holding only it.
class permissions {
 public:
  constexpr permissions() noexcept = default;
  constexpr permissions(permission p) noexcept : bits_(static_cast<std::uint8_t>(p)) {}  // NOLINT: implicit on purpose

  /// All four, as `iothubowner` has.
  static constexpr permissions all() noexcept {
    return permissions(permission::registry_read) | permission::registry_write | permission::service_connect |
           permission::device_connect;
  }

  constexpr bool contains(permission p) const noexcept { return (bits_ & static_cast<std::uint8_t>(p)) != 0; }
  constexpr bool empty() const noexcept { return bits_ == 0; }

  constexpr permissions operator|(permissions other) const noexcept { return from_bits(bits_ | other.bits_); }
  constexpr permissions& operator|=(permissions other) noexcept { return *this = *this | other; }
  constexpr bool operator==(const permissions&) const noexcept = default;

 private:
  static constexpr permissions from_bits(unsigned bits) noexcept {
    permissions p;
    p.bits_ = static_cast<std::uint8_t>(bits);
    return p;
  }
  std::uint8_t bits_ = 0;
};

constexpr permissions operator|(permission a, permission b) noexcept { return permissions(a) | b; }

/// The wire name: "RegistryRead", "RegistryWrite", "ServiceConnect", "DeviceConnect".
std::string_view to_string(permission p) noexcept;
/// The names joined as the resource provider writes a policy's `rights`, in that fixed order:
/// "RegistryRead, RegistryWrite, ServiceConnect, DeviceConnect"; "" for the empty set.
std::string to_string(permissions p);
/// Parses names separated by commas and/or spaces, case-insensitively ("RegistryRead, ServiceConnect").
/// nullopt for an unknown name or an empty list.
std::optional<permissions> parse_permissions(std::string_view text);

}  // namespace mockhub::core
