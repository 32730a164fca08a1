// The service REST API without sockets: requests go through rest::serve_request (routing,
// api-version, SAS authentication, body limits and parsing, the handlers, the core) on a fresh
// hub per input, as rest_server serves what httplib hands it.
//
// Input: up to 8 requests separated by a line `===`. Each is `METHOD TARGET`, header lines
// `Name: value`, an empty line, then the body. A request without an Authorization header gets a
// valid iothubowner token, so the fuzzer reaches the handlers.
// Invariants: nothing escapes serve_request; no request is answered 500 (a 500001 means an
// exception that is not the hub's error type reached the dispatcher); every error response has
// the hub's error body (`Message` = `ErrorCode:<Name>;...;errorCode:<code>`) and an
// `iothub-errorcode` header agreeing with its status; every response body serialises.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "mock_hub/core/ascii.hpp"
#include "mock_hub/core/clock.hpp"
#include "mock_hub/core/device_channel.hpp"
#include "mock_hub/core/direct_methods.hpp"
#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/errors.hpp"
#include "mock_hub/core/hub.hpp"
#include "mock_hub/core/id_source.hpp"
#include "mock_hub/core/sas_token.hpp"
#include "mock_hub/rest/pending_calls.hpp"
#include "mock_hub/rest/request_dispatcher.hpp"
#include "mock_hub/rest/routes.hpp"
#include "mock_hub/server/hub_executor.hpp"

namespace core = mockhub::core;
namespace rest = mockhub::rest;
using nlohmann::json;

namespace {

// Devices never connect: method calls fail at once (connect timeout 0) and nothing is delivered.
class no_devices final : public core::device_channel {
 public:
  void send_desired_patch(std::string_view, const json&) override {}
  void send_method_request(std::string_view, std::string_view, std::string_view, const json&) override {}
  void send_cloud_to_device(std::string_view, const core::cloud_to_device_message&) override {}
  void identity_changed(std::string_view, const core::device_identity*) override {}
  void disconnect(std::string_view) override {}
};

struct fuzz_request {
  std::string method;
  std::string target;
  rest::field_list headers;
  std::string body;
};

std::string_view next_line(std::string_view& text) {
  const auto end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

fuzz_request parse_request(std::string_view text) {
  fuzz_request r;
  const std::string_view first = next_line(text);
  const auto space = first.find(' ');
  r.method = first.substr(0, space);
  if (space != std::string_view::npos) r.target = first.substr(space + 1);
  while (!text.empty()) {
    const std::string_view line = next_line(text);
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (value.starts_with(' ')) value.remove_prefix(1);
    r.headers.emplace_back(line.substr(0, colon), value);
  }
  r.body = text;
  return r;
}

// Query parameters as httplib gives them: split at '&' and '=', '+' and %XX decoded.
rest::field_list query_params(std::string_view query) {
  rest::field_list out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const auto decode = [](std::string_view s) { return core::url_decode(s, true).value_or(std::string(s)); };
    out.emplace_back(decode(pair.substr(0, eq)), eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1)));
  }
  return out;
}

// A method call with a connect timeout would wait for a device that never comes (on a virtual
// clock nobody moves, bounded only by real time): not worth the fuzzer's time.
bool waits_for_a_device(const fuzz_request& r, std::string_view path) {
  try {
    const auto match = rest::match_route(r.method, path);
    if (!match.found || match.found->operation_id != "Devices_InvokeMethod") return false;
    return core::method_request::from_json(rest::parse_request_body(r.body)).connect_timeout_seconds > 0;
  } catch (const std::exception&) {
    return false;
  }
}

void check_response(const rest::rest_response& out) {
  FUZZ_CHECK(out.status >= 200 && out.status < 600, "an HTTP status");
  FUZZ_CHECK(out.status != 500, "no request ends in 500 (an exception that is not a hub_error)");
  if (out.body) (void)out.body->dump(-1, ' ', false, json::error_handler_t::replace);
  if (out.json_text) FUZZ_CHECK(json::accept(*out.json_text), "a body written as text is JSON");
  if (out.status < 400) return;
  FUZZ_CHECK(out.body && out.body->is_object() && out.body->contains("Message"), "an error has the hub's body");
  const auto& message = (*out.body)["Message"];
  FUZZ_CHECK(message.is_string() && message.get<std::string>().starts_with("ErrorCode:"), "Message starts ErrorCode:");
  const std::string code = ";errorCode:" + std::to_string(out.status);
  FUZZ_CHECK(message.get<std::string>().find(code) != std::string::npos, "the numeric code agrees with the status");
  bool named = false;
  for (const auto& [name, value] : out.headers) named = named || (name == "iothub-errorcode" && !value.empty());
  FUZZ_CHECK(named, "an error carries iothub-errorcode");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<fuzz_request> requests;
  while (!input.empty() && requests.size() < 8) {
    const auto sep = input.find("\n===\n");
    requests.push_back(parse_request(input.substr(0, sep)));
    input = sep == std::string_view::npos ? std::string_view{} : input.substr(sep + 5);
  }
  if (requests.empty()) return 0;

  core::virtual_clock clock;
  core::id_source ids(7);
  no_devices channel;
  mockhub::server::hub_executor executor(clock, mockhub::server::hub_executor::timers::virtual_time);
  auto hub = executor.call([&] { return std::make_unique<core::hub>(core::hub_options{}, clock, ids, channel); });
  const std::string token = executor.call([&] {
    const auto* p = hub->policies().find("iothubowner");
    return core::sas_token::create(hub->options().host_name, p->primary_key, clock.now() + std::chrono::hours(1),
                                   "iothubowner");
  });
  rest::pending_calls calls;
  constexpr std::size_t max_body_bytes = 64 * 1024;  // the fuzzer's inputs stay far below 1 MB

  for (auto& r : requests) {
    const auto question = r.target.find('?');
    const std::string path = r.target.substr(0, question);
    if (waits_for_a_device(r, path)) continue;
    rest::request_context c(executor, *hub, calls, std::chrono::seconds(0));
    c.method = r.method;
    c.path = path;
    c.headers = r.headers;
    bool has_auth = false;
    for (const auto& [name, value] : c.headers) has_auth = has_auth || core::iequals(name, "Authorization");
    if (!has_auth) c.headers.emplace_back("Authorization", token);
    if (question != std::string::npos) c.query_params = query_params(std::string_view(r.target).substr(question + 1));
    check_response(rest::serve_request(c, r.body, max_body_bytes, "00000000-0000-0000-0000-000000000000"));
  }
  calls.cancel_all();
  executor.call([&] { hub.reset(); });
  executor.stop();
  return 0;
}
