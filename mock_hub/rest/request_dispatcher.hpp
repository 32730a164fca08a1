// One request through the service API without sockets: routing, api-version, 501, SAS
// authentication on the executor, body, then the operation's handler; any failure becomes the
// hub's error response. rest_server calls it for every request httplib hands over; the REST fuzz
// target (tests/fuzz) calls it directly.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "request_context.hpp"

namespace mockhub::rest {

/// The deepest JSON nesting a request body may have (level 0 is the outermost value): deeper
/// bodies are refused with 400004 before the core sees them (the parser must stay off the stack
/// limit; the twin depth of 10 is the core's check).
inline constexpr int max_body_json_depth = 100;

/// Parses a request body: 400004 ArgumentInvalid for invalid JSON (invalid UTF-8 included) or
/// nesting deeper than max_body_json_depth.
nlohmann::json parse_request_body(std::string_view text);

/// Serves the request `c` describes (method, path still percent-encoded, headers, decoded query
/// parameters) with `body` as sent. A body over `max_body_bytes` is 413001 MessageTooLarge.
/// Never throws: every failure is rendered as the hub's error body with `iothub-errorcode` (and
/// `Allow` for 405); an exception that is not a hub_error is a 500001 ServerError.
/// `request_id` is the response's `x-ms-request-id` (its tracking id goes into error bodies);
/// the caller adds the header itself.
rest_response serve_request(request_context& c, std::string_view body, std::size_t max_body_bytes,
                            std::string_view request_id);

/// The error response for `e`: status, body and `iothub-errorcode`. `now` is the hub time put in
/// the tracking id.
rest_response error_response(const core::hub_error& e, std::string_view request_id, core::time_point now);

}  // namespace mockhub::rest
