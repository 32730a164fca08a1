// ISO-8601 UTC timestamps as IoT Hub writes them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "clock.hpp"

namespace mockhub::core {

/// "2026-01-01T00:00:00.1234567Z": UTC with seven fractional digits, as the real hub writes
/// `$lastUpdated`, `statusUpdatedTime` and job times.
std::string format_time(time_point t);
/// The value the real hub writes for a time that never happened: "0001-01-01T00:00:00Z".
inline constexpr std::string_view never_time = "0001-01-01T00:00:00Z";
/// `format_time(*t)`, or `never_time` when there is none.
std::string format_time(const std::optional<time_point>& t);

/// Parses an ISO-8601 date-time: `YYYY-MM-DDTHH:MM:SS`, an optional fraction (any number of
/// digits), then `Z`, an offset `+hh:mm` / `-hh:mm`, or nothing (taken as UTC, as the hub's
/// samples omit the `Z`). nullopt when the text is not such a time or is out of range.
std::optional<time_point> parse_time(std::string_view text);

}  // namespace mockhub::core
