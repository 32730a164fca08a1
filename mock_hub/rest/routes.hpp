// The routes table of the service REST API, api-version 2021-04-12: every operation of the
// specification (42, reference section 9.4), with its HTTP method, path pattern, operation id,
// the permission it needs and its handler. Operations without a handler answer 501 naming
// their operation id. This table is the only place where paths and permissions are decided.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mock_hub/core/permissions.hpp"
#include "request_context.hpp"

namespace mockhub::rest {

using route_handler = rest_response (*)(request_context&);

struct route {
  std::string_view method;        // "GET", "PUT", "PATCH", "POST", "DELETE"
  std::string_view pattern;       // "/devices/{id}": literal segments and {name} parameters
  std::string_view operation_id;  // as in the specification, e.g. "Devices_GetIdentity"
  core::permission permission;    // what the caller's policy must grant
  bool takes_body;                // whether the body is read and parsed as JSON
  route_handler handler;          // nullptr: not implemented (501)
};

/// Every operation, most specific patterns first (`/jobs/v2/query` before `/jobs/v2/{id}`).
std::span<const route> service_routes();
/// mockhub's REST extension (docs/rest-extension.md): operations under the reserved prefix
/// `/_mockhub/` (no IoT Hub path starts with `_`), same SAS auth, no api-version needed.
std::span<const route> extension_routes();
inline constexpr std::string_view extension_prefix = "/_mockhub/";
/// Whether `r` is one of extension_routes().
bool is_extension(const route& r) noexcept;

struct route_match {
  const route* found = nullptr;
  field_list params;                          // decoded path parameters of `found`
  std::vector<std::string_view> allowed;      // methods of the path, when only the method was wrong
};

/// Matches a request path (still percent-encoded, without the query) against both tables. Literal
/// segments compare case-insensitively; parameters are percent-decoded (`%2F` is part of an id,
/// `+` stays a plus); one trailing slash is ignored (`/devices/` is `/devices`). Throws hub_error
/// 400004 ArgumentInvalid for a malformed percent escape.
route_match match_route(std::string_view method, std::string_view path);

}  // namespace mockhub::rest
