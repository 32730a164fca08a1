// The rules a twin's tags, desired and reported properties must follow
// (reference/iothub-protocol.md section 3.4; MicrosoftDocs azure-docs
// articles/iot-hub/iot-hub-devguide-device-twins.md, "Tags and properties format" and
// "Device twin size"). The twin checks every write against them before it changes anything.
//
// What the real hub answers, and what mockhub answers:
// - key, value, integer, depth and array rules: 400 ArgumentInvalid (400004). Verified for bad
//   key characters and for long values (Azure/azure-iot-sdk-java#243, Azure/iotedge#5921: the hub
//   also refuses '#', which the docs do not list); the others are "bad request" per SDK
//   maintainers (azure-iot-sdk-csharp#2958) and take the same code here.
// - a section over its size: 403 DeviceModelMaxPropertiesExceeded (403100), e.g.
//   "'Properties.Reported' size should be less than 32768 bytes." (Azure/iotedge#7035, #1694;
//   troubleshoot-error-codes.md). A section of exactly the limit is accepted: the docs refuse
//   only what goes "above the limit".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mockhub::core {

/// The three writable sections of a twin.
enum class twin_section { tags, desired, reported };

namespace twin_limits {
/// A key: at most 1 KB of UTF-8 (bytes).
inline constexpr std::size_t max_key_bytes = 1024;
/// A string value: at most 4 KB of UTF-8 (bytes).
inline constexpr std::size_t max_string_bytes = 4096;
/// Nesting: the section itself is level 0, and every object or array value inside it is one
/// level deeper than its parent. A container at level 10 is accepted, at level 11 refused. This
/// is the docs' example (tags.one.two...ten.property, ten nested objects under tags) and how
/// Edge Hub mirrors the hub (ReportedPropertiesValidator counts arrays as levels too).
inline constexpr int max_depth = 10;
/// Integer values: -2^52 ... 2^52 - 1. Floating-point numbers are not limited.
inline constexpr std::int64_t min_integer = -4503599627370496;
inline constexpr std::int64_t max_integer = 4503599627370495;
inline constexpr std::size_t max_tags_size = 8 * 1024;
inline constexpr std::size_t max_desired_size = 32 * 1024;
inline constexpr std::size_t max_reported_size = 32 * 1024;
}  // namespace twin_limits

/// "tags", "properties.desired" or "properties.reported": where the section sits in the twin.
std::string_view wire_path(twin_section s) noexcept;

/// The most a section may weigh by `section_size`.
std::size_t size_limit(twin_section s) noexcept;

/// Checks what a write puts into a section (a PATCH body or a replacement) against the key,
/// value, integer, array and depth rules. `null` members are deletions and are allowed, except
/// inside arrays (the hub keeps no nulls in arrays). Keys may not hold C0/C1 control characters,
/// '.', '$', '#' or a space, so `$metadata` and `$version` cannot be written either.
/// Throws hub_error ArgumentInvalid (400004) naming the path and the limit.
void validate_section_write(twin_section s, const nlohmann::json& content);

/// A section's size by the documented algorithm: over every property, the key plus the value;
/// keys and strings count their characters (code points) except C0/C1 control characters;
/// numbers count 8, booleans 4, objects the sum of their members. mockhub's choices where the
/// docs are silent: an array counts the sum of its elements (no keys), null counts 0.
/// `content` holds only values: the read-only `$metadata` and `$version` are not part of it.
std::size_t section_size(const nlohmann::json& content);

/// Throws hub_error DeviceModelMaxPropertiesExceeded (403100) when `content` weighs more than
/// the section's limit.
void check_section_size(twin_section s, const nlohmann::json& content);

}  // namespace mockhub::core
