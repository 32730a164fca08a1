// Errors only the REST adapter raises: they are about HTTP (paths, methods, versions, bodies),
// not about the hub's state, so the core never throws them. They are core::hub_error values
// like every other, so one function puts all of them on the wire (error_response.hpp).
#pragma once

#include <string>
#include <string_view>

#include "mock_hub/core/errors.hpp"

namespace mockhub::rest::errors {

/// 400001 InvalidProtocolVersion: `api-version` missing, malformed or older than 2021-04-12.
core::hub_error invalid_protocol_version(std::string message);
/// 404000 GenericNotFound: no operation of the API lives at this path.
core::hub_error resource_not_found(std::string_view method, std::string_view path);
/// 405000 MethodNotAllowed: the path names an operation, but not for this HTTP method.
core::hub_error method_not_allowed(std::string_view method, std::string_view path);
/// 501000 NotImplemented: an operation of the 2021-04-12 API that mockhub does not serve.
core::hub_error not_implemented(std::string_view operation_id, std::string_view method, std::string_view pattern);

}  // namespace mockhub::rest::errors
