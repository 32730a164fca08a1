// ETag comparison as the service REST API does it for If-Match (reference section 5.0).
#pragma once

#include <string_view>

namespace mockhub::core {

/// True when an If-Match value admits a resource whose etag is `etag`: the value is `*` or
/// the etag, each either bare or in double quotes (SDKs send `"AAAAAAAAAAE="` and `"*"`;
/// hand-written clients often send them bare), surrounding blanks ignored. If-Match compares
/// strongly (RFC 7232), so a weak `W/"..."` value never matches.
bool if_match_satisfied(std::string_view if_match, std::string_view etag) noexcept;

}  // namespace mockhub::core
