#include "extension_handlers.hpp"

#include <chrono>
#include <cmath>
#include <string>

#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/messages.hpp"
#include "mock_hub/core/time_format.hpp"

namespace mockhub::rest::extension_handlers {

namespace {

using nlohmann::json;
namespace errors = core::errors;

constexpr std::string_view fault_types = "disconnect";
// A clock move beyond this would overflow the hub's time representation long before it means
// anything to a test: 100 years.
constexpr double max_advance_seconds = 100.0 * 365 * 24 * 3600;

bool is_utf8(const std::string& bytes) {
  try {
    (void)json(bytes).dump();  // nlohmann's strict UTF-8 check
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

json telemetry_json(const core::device_to_cloud_message& m) {
  // The same property names as the hub's own serialisation of a message, reshaped to the
  // extension's contract (body text or base64, "properties", "enqueuedTimeUtc").
  const json full = m;
  const bool text = is_utf8(m.body);
  return {{"body", text ? m.body : core::base64_encode(m.body)},
          {"bodyEncoding", text ? "utf-8" : "base64"},
          {"properties", full["applicationProperties"]},
          {"systemProperties", full["systemProperties"]},
          {"enqueuedTimeUtc", full["enqueuedTime"]}};
}

// An optional string member: absent or null is nullopt; another type is refused.
std::optional<std::string> optional_string(const json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw errors::argument_invalid(std::string("The member '") + name + "' must be a string.");
  return it->get<std::string>();
}

core::application_properties properties_of(const json& body) {
  core::application_properties out;
  const auto it = body.find("properties");
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_object()) throw errors::argument_invalid("The member 'properties' must be an object of strings.");
  for (const auto& [name, value] : it->items()) {
    if (value.is_null()) out[name] = std::nullopt;
    else if (value.is_string()) out[name] = value.get<std::string>();
    else throw errors::argument_invalid("The property '" + name + "' must be a string or null.");
  }
  return out;
}

}  // namespace

rest_response reset(request_context& c) {
  c.hub([](core::hub& h) {
    h.reset();
    return 0;
  });
  c.wait_credentials_applied();  // deleted devices are refused by the broker once this answers
  return rest_response::no_content();
}

rest_response get_device_telemetry(request_context& c) {
  std::optional<core::time_point> since;
  if (const auto text = c.query("since"); text && !text->empty()) {
    since = core::parse_time(*text);
    if (!since)
      throw errors::argument_invalid("The since parameter '" + std::string(*text) +
                                     "' is not an ISO-8601 time such as 2026-01-01T00:00:00.0000000Z.");
  }
  return c.hub([&](core::hub& h) {
    const std::string id(c.param("id"));
    if (!h.registry().find(id)) throw errors::device_not_found(id);
    json out = json::array();
    for (const auto& m : h.telemetry().messages(id))
      if (!since || m.enqueued_time > *since) out.push_back(telemetry_json(m));
    return rest_response::json(std::move(out));
  });
}

rest_response send_cloud_to_device_message(request_context& c) {
  const json& body = c.object_body();
  for (const auto& [name, value] : body.items())
    if (name != "body" && name != "bodyEncoding" && name != "properties" && name != "messageId" &&
        name != "correlationId" && name != "expiryTimeUtc" && name != "ack")
      throw errors::argument_invalid("The member '" + name +
                                     "' is not one of body, bodyEncoding, properties, messageId, correlationId, "
                                     "expiryTimeUtc, ack.");
  core::cloud_to_device_message m;
  const auto text = optional_string(body, "body");
  if (!text) throw errors::argument_null("The message needs a 'body' member (a string).");
  const std::string encoding = optional_string(body, "bodyEncoding").value_or("utf-8");
  if (encoding == "utf-8") {
    m.body = *text;
  } else if (encoding == "base64") {
    const auto bytes = core::base64_decode(*text);
    if (!bytes) throw errors::argument_invalid("The body is not valid base64 (bodyEncoding is base64).");
    m.body = *bytes;
  } else {
    throw errors::argument_invalid("The bodyEncoding '" + encoding + "' is not utf-8 or base64.");
  }
  m.application = properties_of(body);
  m.message_id = optional_string(body, "messageId");
  m.correlation_id = optional_string(body, "correlationId");
  if (const auto expiry = optional_string(body, "expiryTimeUtc")) {
    m.expiry = core::parse_time(*expiry);
    if (!m.expiry) throw errors::argument_invalid("The expiryTimeUtc '" + *expiry + "' is not an ISO-8601 time.");
  }
  if (const auto ack = optional_string(body, "ack")) {
    if (*ack != "none" && *ack != "positive" && *ack != "negative" && *ack != "full")
      throw errors::argument_invalid("The ack '" + *ack + "' is not one of none, positive, negative, full.");
    m.ack = *ack;
  }
  const auto id = c.hub([&](core::hub& h) { return h.send_cloud_to_device_message(c.param("id"), std::move(m)); });
  return rest_response::json({{"messageId", id}});
}

rest_response inject_fault(request_context& c) {
  const json& body = c.object_body();
  const auto type = body.find("type");
  const std::string given = type == body.end() ? "(none)" : type->is_string() ? type->get<std::string>() : type->dump();
  if (type == body.end() || !type->is_string() || type->get<std::string>() != "disconnect")
    throw errors::argument_invalid("The fault type '" + given + "' is not one mockhub injects (accepted types: " +
                                   std::string(fault_types) + ").");
  c.hub([&](core::hub& h) {
    h.disconnect_device(c.param("id"));
    return 0;
  });
  return rest_response::no_content();
}

rest_response get_clock(request_context& c) {
  const bool is_virtual = static_cast<bool>(c.advance_clock());
  const auto now = c.hub([](core::hub& h) { return h.time().now(); });
  return rest_response::json({{"now", core::format_time(now)}, {"virtual", is_virtual}});
}

rest_response advance_clock(request_context& c) {
  if (!c.advance_clock())
    throw errors::argument_invalid("the hub runs on the system clock; start it with a virtual clock");
  const json& body = c.object_body();
  const auto seconds = body.find("seconds");
  if (seconds == body.end() || seconds->is_null()) throw errors::argument_null("The body needs a 'seconds' member.");
  if (!seconds->is_number()) throw errors::argument_invalid("The member 'seconds' must be a number.");
  const double s = seconds->get<double>();
  if (!std::isfinite(s) || s < 0 || s > max_advance_seconds)
    throw errors::argument_invalid("The member 'seconds' must be a number from 0 to " +
                                   std::to_string(static_cast<long long>(max_advance_seconds)) + ", not " +
                                   seconds->dump() + ".");
  const auto by = std::chrono::duration_cast<core::duration>(std::chrono::duration<double>(s));
  const auto now = c.advance_clock()(by);
  return rest_response::json({{"now", core::format_time(now)}});
}

}  // namespace mockhub::rest::extension_handlers
