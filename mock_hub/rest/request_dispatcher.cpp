#include "request_dispatcher.hpp"

#include <chrono>
#include <exception>
#include <utility>

#include "api_version.hpp"
#include "error_response.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/sas_authentication.hpp"
#include "rest_errors.hpp"
#include "routes.hpp"
#include "sas_header.hpp"

namespace mockhub::rest {

namespace {

namespace core_errors = core::errors;
using nlohmann::json;

struct too_deep {};

// An authentication failure carries the hub time at which it happened.
struct refused {
  core::hub_error error;
  core::time_point now;
};

bool is_blank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

std::string tracking_id_of(std::string_view request_id) {
  std::string t;
  for (char c : request_id)
    if (c != '-') t += c;
  return t;
}

// Routing, api-version, 501, authentication, body; then the operation's handler.
rest_response dispatch(request_context& c, std::string_view body, std::size_t max_body_bytes, std::string& allow) {
  auto match = match_route(c.method, c.path);
  if (!match.found) {
    if (match.allowed.empty()) throw errors::resource_not_found(c.method, c.path);
    for (const auto m : match.allowed) allow += (allow.empty() ? "" : ", ") + std::string(m);
    throw errors::method_not_allowed(c.method, c.path);
  }
  const route& r = *match.found;
  c.path_params = std::move(match.params);
  // mockhub's own extension (/_mockhub/...) is not versioned: any api-version, or none, is accepted.
  if (!is_extension(r)) check_api_version(c.query("api-version"));
  if (!r.handler) throw errors::not_implemented(r.operation_id, r.method, r.pattern);

  const std::string authorization = restore_sas_encoding(c.header("Authorization").value_or(""));
  try {
    c.now = c.hub([&](core::hub& h) {
      const auto now = h.time().now();
      try {
        core::authenticate_service_request(authorization, h.options().host_name, r.permission, h.policies().list(),
                                           now);
      } catch (const core::hub_error& e) {
        throw refused{e, now};
      }
      return now;
    });
  } catch (const refused& failure) {
    c.now = failure.now;  // the refusal's timestamp is the hub's time when it happened
    throw failure.error;
  }

  if (r.takes_body) {
    if (body.size() > max_body_bytes)  // a chunked body, which httplib does not limit
      throw core_errors::message_too_large("The request body is " + std::to_string(body.size()) + " bytes; at most " +
                                           std::to_string(max_body_bytes) + " are accepted.");
    if (!is_blank(body)) c.body = parse_request_body(body);
  }
  return r.handler(c);
}

}  // namespace

json parse_request_body(std::string_view text) {
  try {
    return json::parse(text, [](int depth, json::parse_event_t, json&) {
      if (depth >= max_body_json_depth) throw too_deep{};  // depth counts from 0 at the outermost value
      return true;
    });
  } catch (const too_deep&) {
    throw core_errors::argument_invalid("The request body nests JSON deeper than " +
                                        std::to_string(max_body_json_depth) + " levels.");
  } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers like 1e400
    throw core_errors::argument_invalid(std::string("The request body is not valid JSON: ") + e.what());
  }
}

rest_response error_response(const core::hub_error& e, std::string_view request_id, core::time_point now) {
  rest_response r = rest_response::json(error_body(e, tracking_id_of(request_id), now), e.http_status());
  r.header("iothub-errorcode", e.name());
  return r;
}

rest_response serve_request(request_context& c, std::string_view body, std::size_t max_body_bytes,
                            std::string_view request_id) {
  // The hub's time, for error timestamps; the system clock once the executor has stopped.
  const auto time_of_error = [&c]() {
    if (c.now != core::time_point{}) return c.now;
    try {
      return c.hub([](core::hub& h) { return h.time().now(); });
    } catch (...) {
      return core::time_point(std::chrono::system_clock::now());
    }
  };
  std::string allow;
  try {
    return dispatch(c, body, max_body_bytes, allow);
  } catch (const core::hub_error& e) {
    rest_response out = error_response(e, request_id, time_of_error());
    if (!allow.empty()) out.header("Allow", allow);
    return out;
  } catch (const std::exception& e) {
    return error_response(core_errors::server_error(std::string("The hub failed to serve the request: ") + e.what()),
                          request_id, time_of_error());
  } catch (...) {
    return error_response(core_errors::server_error("The hub failed to serve the request."), request_id,
                          time_of_error());
  }
}

}  // namespace mockhub::rest
