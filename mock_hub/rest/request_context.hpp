// What a REST handler sees of one request, and what it returns. The dispatcher (rest_server)
// fills the context after routing, the api-version check and authentication; a handler parses
// what it needs, calls the hub on the executor through `hub()`, and serialises the result.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_hub/core/clock.hpp"
#include "mock_hub/core/hub.hpp"
#include "mock_hub/server/hub_executor.hpp"
#include "pending_calls.hpp"

namespace mockhub::rest {

/// An HTTP response before it goes on the wire. JSON bodies get
/// `Content-Type: application/json; charset=utf-8`; every response gets `x-ms-request-id`.
struct rest_response {
  int status = 200;
  std::optional<nlohmann::json> body;
  /// A JSON body already serialised (a query page written straight from packed twins); sent
  /// instead of `body` when set.
  std::optional<std::string> json_text;
  std::vector<std::pair<std::string, std::string>> headers;

  static rest_response json(nlohmann::json body, int status = 200);
  static rest_response no_content();  // 204
  rest_response& header(std::string name, std::string value);
};

/// Case-insensitive name/value pairs (HTTP headers, query parameters), in arrival order.
using field_list = std::vector<std::pair<std::string, std::string>>;

class request_context {
 public:
  request_context(server::hub_executor& executor, core::hub& hub, pending_calls& calls,
                  std::chrono::seconds method_wait_margin, const std::function<void()>& credentials_barrier = {},
                  const std::function<core::time_point(core::duration)>& advance_clock = {})
      : executor_(executor),
        hub_(hub),
        calls_(calls),
        method_wait_margin_(method_wait_margin),
        credentials_barrier_(credentials_barrier),
        advance_clock_(advance_clock) {}

  /// After an identity write: waits until devices are admitted with the new credentials.
  void wait_credentials_applied() const {
    if (credentials_barrier_) credentials_barrier_();
  }

  std::string method;
  std::string path;          // as sent, still percent-encoded
  field_list path_params;    // decoded
  field_list query_params;   // decoded
  field_list headers;
  nlohmann::json body;       // null when the request has none
  core::time_point now{};    // hub time when the request was authenticated

  /// A path parameter of the route (decoded); "" when the route has none of that name.
  std::string_view param(std::string_view name) const;
  /// The first query parameter of that name (case-insensitive), if any.
  std::optional<std::string_view> query(std::string_view name) const;
  /// The first header of that name (case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const;
  /// The If-Match header, if any (quoted or bare etag, or `*`: the core compares).
  std::optional<std::string_view> if_match() const { return header("If-Match"); }
  /// The body, which must be a JSON object: 400005 ArgumentNull when there is no body,
  /// 400004 ArgumentInvalid when it is another JSON type.
  const nlohmann::json& object_body() const;

  /// Runs `f(hub)` on the executor and returns its result (rethrowing its exceptions).
  /// Throws 503001 ServiceUnavailable when the executor has stopped.
  template <class F>
  auto hub(F&& f) {
    bool ran = false;
    try {
      return executor_.call([&]() {
        ran = true;
        return f(hub_);
      });
    } catch (...) {
      if (!ran) throw_hub_stopped();
      throw;
    }
  }

  /// The hub's virtual clock mover (rest_server_options::advance_clock); empty on the system clock.
  const std::function<core::time_point(core::duration)>& advance_clock() const noexcept { return advance_clock_; }

  pending_calls& calls() noexcept { return calls_; }
  std::chrono::seconds method_wait_margin() const noexcept { return method_wait_margin_; }

 private:
  [[noreturn]] static void throw_hub_stopped();

  server::hub_executor& executor_;
  core::hub& hub_;
  pending_calls& calls_;
  std::chrono::seconds method_wait_margin_;
  std::function<void()> credentials_barrier_;
  std::function<core::time_point(core::duration)> advance_clock_;
};

}  // namespace mockhub::rest
