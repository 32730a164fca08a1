// The api-version policy of the REST adapter. mockhub serves the 2021-04-12 API. Later dated
// versions (`YYYY-MM-DD`, optionally `-preview`) are accepted and served with 2021-04-12
// semantics, so an SDK that moved to a newer default keeps working. A missing, malformed or
// older version is refused with 400001 InvalidProtocolVersion, whose message says what is served.
#pragma once

#include <optional>
#include <string_view>

namespace mockhub::rest {

inline constexpr std::string_view served_api_version = "2021-04-12";

/// Throws hub_error 400001 InvalidProtocolVersion unless `value` is an acceptable api-version.
void check_api_version(std::optional<std::string_view> value);

}  // namespace mockhub::rest
