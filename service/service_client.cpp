#include "service_client.hpp"

#include "http_transport.hpp"

namespace mockhub::service {

namespace {

// How much longer than the hub's own timeouts the HTTP request waits, so that the hub's answer
// (404103, 504101) arrives before the client gives up.
constexpr std::chrono::seconds method_wait_margin{10};

}  // namespace

service_client::service_client(std::string_view connection_string, client_options options)
    : service_client(service_connection_string::parse(connection_string), std::move(options)) {}

service_client::service_client(service_connection_string connection, client_options options)
    : transport_(std::make_shared<detail::http_transport>(std::move(connection), std::move(options))),
      registry_(transport_),
      twins_(transport_),
      jobs_(transport_) {}

service_client::~service_client() = default;

method_response service_client::invoke_method(std::string_view device_id, const method_request& request) {
  const nlohmann::json body = request;
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(request.connect_timeout + request.response_timeout +
                                                                          method_wait_margin);
  return transport_
      ->call({.method = "POST",
              .path = "/twins/" + detail::encode_component(device_id) + "/methods",
              .body = body.dump(),
              .timeout = std::max(wait, transport_->options().request_timeout),
              .retry_safe = false})
      .get<method_response>();
}

paged_range<nlohmann::json> service_client::query(std::string_view sql, int page_size) {
  const nlohmann::json spec{{"query", sql}};
  const detail::http_request request{.method = "POST", .path = "/devices/query", .body = spec.dump()};
  return paged_range<nlohmann::json>([transport = transport_, request, page_size](const std::string& continuation) {
    return detail::fetch_page(*transport, request, page_size, continuation);
  });
}

const service_connection_string& service_client::connection() const noexcept { return transport_->connection(); }

const std::string& service_client::base_url() const noexcept { return transport_->base_url(); }

}  // namespace mockhub::service
