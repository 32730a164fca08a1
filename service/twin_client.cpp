#include "twin_client.hpp"

#include "http_transport.hpp"

namespace mockhub::service {

namespace {

std::string twin_path(std::string_view id) { return "/twins/" + detail::encode_component(id); }

}  // namespace

twin twin_client::get_twin(std::string_view device_id) {
  return transport_->call({.method = "GET", .path = twin_path(device_id)}).get<twin>();
}

twin twin_client::update_twin(std::string_view device_id, const nlohmann::json& patch, const if_match& version) {
  return transport_
      ->call({.method = "PATCH",
              .path = twin_path(device_id),
              .headers = {{"If-Match", version.header_value()}},
              .body = patch.dump(),
              .retry_safe = false})
      .get<twin>();
}

twin twin_client::replace_twin(std::string_view device_id, const nlohmann::json& replacement, const if_match& version) {
  return transport_
      ->call({.method = "PUT",
              .path = twin_path(device_id),
              .headers = {{"If-Match", version.header_value()}},
              .body = replacement.dump(),
              .retry_safe = version.is_any()})
      .get<twin>();
}

}  // namespace mockhub::service
