#include "errors.hpp"

#include <array>
#include <charconv>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace mockhub::service {

namespace {

using nlohmann::json;

std::string describe(int http_status, int code, const std::string& name, const std::string& message) {
  std::string s = "IoT Hub error";
  if (code != 0) s += " " + std::to_string(code);
  if (!name.empty()) s += " " + name;
  s += " (HTTP " + std::to_string(http_status) + ")";
  if (!message.empty()) s += ": " + message;
  return s;
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(s[i]) != lower(prefix[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

int parse_code(std::string_view text) noexcept {
  text = trim(text);
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() ? value : 0;
}

int code_member(const json& j) {
  const auto it = j.find("errorCode");
  if (it == j.end()) return 0;
  if (it->is_number_integer()) return it->get<int>();
  if (it->is_string()) return parse_code(it->get<std::string>());
  return 0;
}

std::string string_member(const json& j, const char* name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

struct parsed_body {
  int code = 0;
  std::string name;
  std::string message;
  std::string tracking_id;
};

// `Message` in the legacy form: "ErrorCode:<Name>;<text>[;errorCode:<number>]".
void parse_legacy_message(std::string_view text, parsed_body& out) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto semi = text.find(';');
    parts.push_back(text.substr(0, semi));
    if (semi == std::string_view::npos) break;
    text.remove_prefix(semi + 1);
  }
  std::string message;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string_view p = trim(parts[i]);
    if (i == 0 && istarts_with(p, "ErrorCode:")) {
      const auto value = trim(p.substr(10));
      if (const int n = parse_code(value); n != 0) out.code = n;  // "ErrorCode:404001" from some front ends
      else out.name = std::string(value);
    } else if (i > 0 && istarts_with(p, "errorCode:") && parse_code(p.substr(10)) != 0) {
      out.code = parse_code(p.substr(10));
    } else {
      if (!message.empty()) message += ";";
      message += parts[i];
    }
  }
  out.message = std::string(trim(message));
}

parsed_body parse_body(std::string_view body) {
  parsed_body out;
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    out.message = std::string(trim(body.substr(0, 1000)));
    return out;
  }
  if (const auto m = j.find("Message"); m != j.end() && m->is_string()) {
    const std::string text = m->get<std::string>();
    const json inner = json::parse(text, nullptr, false);
    if (!inner.is_discarded() && inner.is_object()) {
      out.code = code_member(inner);
      out.message = string_member(inner, "message");
      out.tracking_id = string_member(inner, "trackingId");
    } else {
      parse_legacy_message(text, out);
    }
  } else {
    out.code = code_member(j);
    out.message = string_member(j, "message");
    if (out.message.empty()) out.message = string_member(j, "Message");
    out.tracking_id = string_member(j, "trackingId");
  }
  if (out.tracking_id.empty()) {
    const std::string exception_message = string_member(j, "ExceptionMessage");
    std::string_view em = exception_message;
    if (const auto at = em.find("Tracking ID:"); at != std::string_view::npos) em = em.substr(at + 12);
    out.tracking_id = std::string(trim(em));
  }
  return out;
}

struct known_error {
  std::string_view name;
  int code;
};

// The IoT Hub error names a service client meets (reference sections 4.2, 5, 8; C# SDK ErrorCode).
constexpr std::array known_errors{
    known_error{"GenericBadRequest", 400000},
    known_error{"InvalidProtocolVersion", 400001},
    known_error{"ArgumentInvalid", 400004},
    known_error{"ArgumentNull", 400005},
    known_error{"EtagDoesNotMatch", 400023},
    known_error{"IotHubUnauthorizedAccess", 401002},
    known_error{"IotHubUnauthorized", 401003},
    known_error{"IotHubQuotaExceeded", 403002},
    known_error{"JobQuotaExceeded", 403003},
    known_error{"DeviceMaximumQueueDepthExceeded", 403004},
    known_error{"OperationNotAvailableInCurrentTier", 403010},
    known_error{"DeviceModelMaxPropertiesExceeded", 403100},
    known_error{"DeviceMaximumInflightMethodExceeded", 403800},
    known_error{"GenericNotFound", 404000},
    known_error{"DeviceNotFound", 404001},
    known_error{"JobNotFound", 404002},
    known_error{"DeviceNotOnline", 404103},
    known_error{"DeviceConnectionClosedRemotely", 404104},
    known_error{"MethodNotAllowed", 405000},
    known_error{"DeviceAlreadyExists", 409001},
    known_error{"JobAlreadyExists", 409104},
    known_error{"PreconditionFailed", 412001},
    known_error{"JobRunPreconditionFailed", 412003},
    known_error{"MessageTooLarge", 413001},
    known_error{"ThrottlingException", 429001},
    known_error{"ThrottlingMaxActiveJobCountExceeded", 429004},
    known_error{"ServerError", 500001},
    known_error{"NotImplemented", 501000},
    known_error{"ServiceUnavailable", 503001},
    known_error{"GatewayTimeout", 504101},
};

std::string_view name_for_code(int code) noexcept {
  for (const auto& e : known_errors)
    if (e.code == code) return e.name;
  return {};
}

std::string header(const std::multimap<std::string, std::string>& headers, const std::string& name) {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string{} : it->second;
}

}  // namespace

iothub_error::iothub_error(int http_status, int error_code, std::string error_name, std::string message,
                           std::string tracking_id, std::string request_id)
    : std::runtime_error(describe(http_status, error_code, error_name, message)),
      http_status_(http_status),
      error_code_(error_code),
      error_name_(std::move(error_name)),
      message_(std::move(message)),
      tracking_id_(std::move(tracking_id)),
      request_id_(std::move(request_id)) {}

int error_code_for_name(std::string_view name) noexcept {
  for (const auto& e : known_errors)
    if (e.name == name) return e.code;
  return 0;
}

iothub_error parse_error_response(int http_status, const std::multimap<std::string, std::string>& headers,
                                  std::string_view body) {
  parsed_body b = parse_body(body);
  std::string name = header(headers, "iothub-errorcode");
  if (name.empty()) name = b.name;
  if (name.empty()) name = std::string(name_for_code(b.code));
  int code = b.code;
  if (code == 0) code = error_code_for_name(name);
  return iothub_error(http_status, code, std::move(name), std::move(b.message), std::move(b.tracking_id),
                      header(headers, "x-ms-request-id"));
}

}  // namespace mockhub::service
