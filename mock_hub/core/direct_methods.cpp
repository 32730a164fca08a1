#include "direct_methods.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace mockhub::core {

using nlohmann::json;

namespace {

int timeout_member(const json& body, const char* name, int fallback, int min, int max) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_number_integer())
    throw errors::argument_invalid(std::string(name) + " must be an integer number of seconds.");
  // An unsigned value past int64 (e.g. 18446744073709551615) must not wrap into range.
  const bool past_int64 = it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(max);
  const auto v = past_int64 ? std::int64_t{max} + 1 : it->get<std::int64_t>();
  if (v < min || v > max)
    throw errors::argument_invalid(std::string(name) + " is " + it->dump() + "; it must be between " +
                                   std::to_string(min) + " and " + std::to_string(max) + " seconds.");
  return static_cast<int>(v);
}

bool valid_method_name_char(char c) {
  static constexpr std::string_view forbidden = "$()<>@,;:\\\"/[]?={} \t";
  return c > 0x20 && c < 0x7f && forbidden.find(c) == std::string_view::npos;
}

}  // namespace

method_request method_request::from_json(const json& body) {
  if (!body.is_object()) throw errors::argument_invalid("The method invocation body must be a JSON object.");
  method_request r;
  const auto name = body.find("methodName");
  if (name == body.end() || name->is_null()) throw errors::argument_null("methodName is required.");
  if (!name->is_string() || name->get_ref<const std::string&>().empty())
    throw errors::argument_invalid("methodName must be a non-empty string.");
  r.method_name = name->get<std::string>();
  for (const char c : r.method_name)
    if (!valid_method_name_char(c))
      throw errors::argument_invalid("methodName '" + r.method_name +
                                     "' is not valid: use printable US-ASCII without $ ( ) < > @ , ; : \\ \" / [ ] ? = "
                                     "{ }, space or tab.");
  if (const auto p = body.find("payload"); p != body.end()) r.payload = *p;
  const auto size = r.payload.is_null() ? 0 : r.payload.dump().size();
  if (size > max_payload_bytes)
    throw errors::message_too_large("The method payload is " + std::to_string(size) +
                                    " bytes; at most 131072 are allowed.");
  const int legacy = timeout_member(body, "timeoutInSeconds", 30, 5, 300);
  r.response_timeout_seconds = timeout_member(body, "responseTimeoutInSeconds", legacy, 5, 300);
  r.connect_timeout_seconds = timeout_member(body, "connectTimeoutInSeconds", 0, 0, 300);
  return r;
}

void to_json(json& j, const method_result& r) { j = {{"status", r.status}, {"payload", r.payload}}; }

void to_json(json& j, const method_request& r) {
  j = {{"methodName", r.method_name},
       {"payload", r.payload},
       {"responseTimeoutInSeconds", r.response_timeout_seconds},
       {"connectTimeoutInSeconds", r.connect_timeout_seconds}};
}

std::shared_ptr<const prepared_method_request> prepared_method_request::of(const method_request& request) {
  return std::make_shared<const prepared_method_request>(prepared_method_request{
      request.method_name, request.payload.dump(), request.response_timeout_seconds, request.connect_timeout_seconds});
}

void direct_methods::invoke(std::string_view device_id, const method_request& request, method_callback done) {
  invoke(device_id, prepared_method_request::of(request), std::move(done));
}

void direct_methods::invoke(std::string_view device_id, std::shared_ptr<const prepared_method_request> request,
                            method_callback done) {
  const auto key = next_key_++;
  const int connect_timeout = request->connect_timeout_seconds;
  calls_.emplace(key, call{std::string(device_id), std::move(request), std::move(done), {}, 0});
  if (sessions_.is_subscribed(device_id, device_subscription::methods)) {
    send(key);
    return;
  }
  if (connect_timeout == 0) {
    finish(key, errors::device_not_online("Timed out waiting for device to connect."));
    return;
  }
  calls_.at(key).timer = clock_.call_after(std::chrono::seconds(connect_timeout), [this, key] {
    calls_.at(key).timer = 0;
    finish(key, errors::device_not_online("Timed out waiting for device to connect."));
  });
}

void direct_methods::send(std::uint64_t key) {
  call& c = calls_.at(key);
  if (c.timer) clock_.cancel(c.timer);
  c.timer = 0;
  c.request_id = std::to_string(key);
  c.deadline = clock_.now() + std::chrono::seconds(c.request->response_timeout_seconds);
  deadlines_.emplace(c.deadline, key);
  arm_deadline_timer();
  channel_.send_serialized_method_request(c.device_id, c.request->method_name, c.request_id, c.request->payload_json);
}

// Keeps the one deadline timer due at the earliest deadline, or at an earlier one whose call has
// since finished: it then fires early and re-arms itself for the next.
void direct_methods::arm_deadline_timer() {
  if (deadlines_.empty()) return;
  const time_point first = deadlines_.begin()->first;
  if (deadline_timer_ != 0 && deadline_timer_due_ <= first) return;
  if (deadline_timer_ != 0) clock_.cancel(deadline_timer_);
  deadline_timer_due_ = first;
  deadline_timer_ = clock_.call_at(first, [this] { deadline_passed(); });
}

void direct_methods::deadline_passed() {
  deadline_timer_ = 0;
  const time_point now = clock_.now();
  std::vector<std::uint64_t> late;
  for (const auto& [deadline, key] : deadlines_) {
    if (deadline > now) break;
    late.push_back(key);
  }
  for (const auto key : late) finish(key, errors::gateway_timeout("Timed out waiting for the response from device."));
  arm_deadline_timer();
}

void direct_methods::finish(std::uint64_t key, method_outcome outcome) {
  const auto it = calls_.find(key);
  if (it == calls_.end()) return;
  call& c = it->second;
  if (c.timer) clock_.cancel(c.timer);
  if (!c.request_id.empty()) {
    deadlines_.erase({c.deadline, key});
    // No call left to time out: the clock keeps no timer of ours.
    if (deadlines_.empty() && deadline_timer_ != 0) {
      clock_.cancel(deadline_timer_);
      deadline_timer_ = 0;
    }
  }
  auto done = std::move(c.done);
  calls_.erase(it);
  done(std::move(outcome));
}

template <class Pred>
std::vector<std::uint64_t> direct_methods::keys_of(std::string_view device_id, Pred pred) const {
  std::vector<std::uint64_t> keys;
  for (const auto& [key, c] : calls_)
    if (c.device_id == device_id && pred(c)) keys.push_back(key);
  std::sort(keys.begin(), keys.end());  // start order
  return keys;
}

void direct_methods::device_ready(std::string_view device_id) {
  const auto waiting = keys_of(device_id, [](const call& c) { return c.request_id.empty(); });
  for (const auto key : waiting) send(key);
}

void direct_methods::device_gone(std::string_view device_id) {
  const auto sent = keys_of(device_id, [](const call& c) { return !c.request_id.empty(); });
  for (const auto key : sent) finish(key, errors::device_not_online("Device unavailable: it disconnected during the call."));
}

void direct_methods::device_deleted(std::string_view device_id) {
  const auto all = keys_of(device_id, [](const call&) { return true; });
  for (const auto key : all) finish(key, errors::device_not_found(device_id));
}

bool direct_methods::device_responded(std::string_view device_id, std::string_view request_id, int status,
                                      std::string_view payload) {
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(request_id.data(), request_id.data() + request_id.size(), number);
  if (ec != std::errc{} || end != request_id.data() + request_id.size()) return false;
  const auto found = calls_.find(number);
  if (found == calls_.end()) return false;
  const call& c = found->second;
  // "007" is not "7", and another device's answer is not this call's.
  if (c.device_id != device_id || c.request_id != request_id) return false;
  method_result result;
  result.status = status;
  if (payload.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    result.payload = json::parse(payload, nullptr, false);
    // Not JSON: handed back as a JSON string rather than lost.
    if (result.payload.is_discarded()) result.payload = std::string(payload);
  }
  finish(number, std::move(result));
  return true;
}

}  // namespace mockhub::core
