// The HTTP side of the library (private: not installed, not included by public headers): signs
// every request with a fresh SAS token, adds api-version, keeps a small pool of keep-alive
// connections (so one client may be used from several threads at once), and turns failures into
// iothub_error or network_error. cpp-httplib is included only by the .cpp.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "client_options.hpp"
#include "connection_string.hpp"
#include "paged_range.hpp"

namespace mockhub::service::detail {

inline constexpr std::string_view api_version = "2021-04-12";

struct http_request {
  std::string method;
  /// Already percent-encoded (see encode_component), without the query.
  std::string path;
  /// Query parameters besides api-version; the transport encodes them.
  std::vector<std::pair<std::string, std::string>> query{};
  std::vector<std::pair<std::string, std::string>> headers{};
  /// JSON text; sent with `Content-Type: application/json; charset=utf-8`.
  std::optional<std::string> body{};
  /// Overrides client_options::request_timeout.
  std::optional<std::chrono::milliseconds> timeout{};
  /// May be sent again, once, when a kept-alive connection turns out to be closed by the server.
  bool retry_safe = true;
};

struct http_response {
  int status = 0;
  /// Header names lower-cased.
  std::multimap<std::string, std::string> headers;
  std::string body;

  /// The first value of a header (name in lower case); empty when absent.
  std::string header(const std::string& name) const;
};

/// encodeURIComponent: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) is percent-encoded (UTF-8 bytes).
std::string encode_component(std::string_view text);

class http_transport {
 public:
  /// Throws std::invalid_argument for an unusable key, endpoint or CA file.
  http_transport(service_connection_string connection, client_options options);
  ~http_transport();
  http_transport(const http_transport&) = delete;
  http_transport& operator=(const http_transport&) = delete;

  /// Sends the request; any HTTP status is returned. Throws network_error when there is no answer.
  http_response send(const http_request& request);
  /// Sends the request and returns its JSON body (null when empty). Throws iothub_error for a
  /// status outside 2xx, network_error when there is no answer or the body is not JSON.
  nlohmann::json call(const http_request& request, http_response* response = nullptr);

  const service_connection_string& connection() const noexcept { return connection_; }
  const client_options& options() const noexcept { return options_; }
  /// Where requests go, e.g. "https://127.0.0.1:8443".
  const std::string& base_url() const noexcept { return base_url_; }

 private:
  struct connection_slot;
  std::unique_ptr<connection_slot> acquire();
  void release(std::unique_ptr<connection_slot> slot);
  std::string sign() const;

  service_connection_string connection_;
  client_options options_;
  endpoint endpoint_;
  std::string base_url_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<connection_slot>> idle_;
};

/// Sends one page request of a query: `request` plus `x-ms-max-item-count` (when `page_size` > 0)
/// and `x-ms-continuation` (when not empty). The body must be a JSON array.
raw_page fetch_page(http_transport& transport, http_request request, int page_size, const std::string& continuation);

}  // namespace mockhub::service::detail
