#include "extension_client.hpp"

#include "http_transport.hpp"
#include "json_members.hpp"

namespace mockhub::service {

using nlohmann::json;

namespace {

std::string device_path(std::string_view device_id) { return "/_mockhub/devices/" + detail::encode_component(device_id); }

}  // namespace

void from_json(const json& j, telemetry_message& m) {
  m = telemetry_message{};
  m.body = detail::get_string(j, "body");
  if (const std::string e = detail::get_string(j, "bodyEncoding"); !e.empty()) m.body_encoding = e;
  if (const json* props = detail::find_object(j, "properties"))
    for (const auto& [name, value] : props->items()) m.properties[name] = value.is_string() ? value.get<std::string>() : value.dump();
  if (const json* sys = detail::find_object(j, "systemProperties")) m.system_properties = *sys;
  m.enqueued_time_utc = detail::get_string(j, "enqueuedTimeUtc");
  m.document = j;
}

void to_json(json& j, const cloud_to_device_message& m) {
  j = json{{"body", m.body}, {"bodyEncoding", m.body_encoding}, {"properties", m.properties}};
  if (!m.message_id.empty()) j["messageId"] = m.message_id;
  if (!m.correlation_id.empty()) j["correlationId"] = m.correlation_id;
  if (!m.expiry_time_utc.empty()) j["expiryTimeUtc"] = m.expiry_time_utc;
  if (!m.ack.empty()) j["ack"] = m.ack;
}

extension_client::extension_client(std::string_view connection_string, client_options options)
    : transport_(std::make_shared<detail::http_transport>(service_connection_string::parse(connection_string), std::move(options))) {}

extension_client::~extension_client() = default;

void extension_client::reset() { transport_->call({.method = "POST", .path = "/_mockhub/reset", .retry_safe = false}); }

std::vector<telemetry_message> extension_client::device_events(std::string_view device_id, std::string_view since) {
  detail::http_request request{.method = "GET", .path = device_path(device_id) + "/messages/events"};
  if (!since.empty()) request.query.emplace_back("since", std::string(since));
  return transport_->call(request).get<std::vector<telemetry_message>>();
}

std::string extension_client::send_cloud_to_device(std::string_view device_id, const cloud_to_device_message& message) {
  const json body = message;
  const json answer = transport_->call(
      {.method = "POST", .path = device_path(device_id) + "/messages/devicebound", .body = body.dump(), .retry_safe = false});
  return detail::get_string(answer, "messageId");
}

void extension_client::inject_fault(std::string_view device_id, std::string_view type) {
  const json body{{"type", type}};
  transport_->call({.method = "POST", .path = device_path(device_id) + "/faults", .body = body.dump(), .retry_safe = false});
}

hub_clock extension_client::clock() {
  const json answer = transport_->call({.method = "GET", .path = "/_mockhub/clock"});
  const auto v = answer.find("virtual");
  return {.now = detail::get_string(answer, "now"), .is_virtual = v != answer.end() && v->is_boolean() && v->get<bool>()};
}

std::string extension_client::advance_clock(double seconds) {
  const json body{{"seconds", seconds}};
  const json answer = transport_->call({.method = "POST", .path = "/_mockhub/clock/advance", .body = body.dump(), .retry_safe = false});
  return detail::get_string(answer, "now");
}

}  // namespace mockhub::service
