#include "registry_client.hpp"

#include <nlohmann/json.hpp>

#include "http_transport.hpp"

namespace mockhub::service {

using detail::encode_component;
using detail::http_request;

namespace {

std::string device_path(std::string_view id) { return "/devices/" + encode_component(id); }

}  // namespace

device registry_client::create_device(const device& d) {
  nlohmann::json body = d;
  body.erase("etag");  // SDKs never send an etag on create
  return transport_->call({.method = "PUT", .path = device_path(d.device_id), .body = body.dump(), .retry_safe = false})
      .get<device>();
}

device registry_client::create_device(std::string_view device_id) {
  device d;
  d.device_id = std::string(device_id);
  return create_device(d);
}

device registry_client::get_device(std::string_view device_id) {
  return transport_->call({.method = "GET", .path = device_path(device_id)}).get<device>();
}

device registry_client::update_device(const device& d, const if_match& version) {
  nlohmann::json body = d;
  return transport_
      ->call({.method = "PUT",
              .path = device_path(d.device_id),
              .headers = {{"If-Match", version.header_value()}},
              .body = body.dump(),
              .retry_safe = version.is_any()})
      .get<device>();
}

void registry_client::delete_device(std::string_view device_id, const if_match& version) {
  transport_->call({.method = "DELETE", .path = device_path(device_id), .headers = {{"If-Match", version.header_value()}}});
}

std::vector<device> registry_client::list_devices(int top) {
  const auto body = transport_->call({.method = "GET", .path = "/devices", .query = {{"top", std::to_string(top)}}});
  std::vector<device> out;
  if (body.is_array())
    for (const auto& d : body) out.push_back(d.get<device>());
  return out;
}

device_statistics registry_client::get_device_statistics() {
  return transport_->call({.method = "GET", .path = "/statistics/devices"}).get<device_statistics>();
}

service_statistics registry_client::get_service_statistics() {
  return transport_->call({.method = "GET", .path = "/statistics/service"}).get<service_statistics>();
}

}  // namespace mockhub::service
