#include "trace_recorder.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/sas_token.hpp"
#include "mock_hub/core/time_format.hpp"

namespace mockhub::trace {

using nlohmann::json;

namespace {

// The headers that say something about the hub's behaviour. Authorization never (a secret), and
// x-ms-request-id only when the run is seeded (otherwise it is random and would make every trace
// differ).
constexpr std::array kept_header_names = {"allow", "content-type", "etag", "if-match", "iothub-errorcode",
                                          "location", "x-ms-continuation", "x-ms-max-item-count"};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool valid_utf8(std::string_view bytes) {
  try {
    (void)json(std::string(bytes)).dump();  // the strict handler throws on invalid UTF-8
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

}  // namespace

json to_json(const trace_header& h) {
  return {{"format", "mockhub-trace"},
          {"version", format_version},
          {"mockhub", h.mockhub_version},
          {"seed", h.seed ? json(*h.seed) : json(nullptr)},
          {"host_name", h.host_name},
          {"clock", h.virtual_clock ? "virtual" : "system"},
          {"start", core::format_time(h.start)}};
}

trace_header header_from_json(const json& j) {
  if (!j.is_object() || j.value("format", "") != "mockhub-trace")
    throw trace_error("the first line is not a mockhub trace header (\"format\": \"mockhub-trace\" is missing)");
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int>() != format_version)
    throw trace_error("unsupported trace format version " + (j.contains("version") ? j["version"].dump() : "(none)") +
                      "; this mockhub reads version " + std::to_string(format_version));
  trace_header h;
  if (j.contains("mockhub") && j["mockhub"].is_string()) h.mockhub_version = j["mockhub"];
  if (j.contains("seed") && !j["seed"].is_null()) {
    if (!j["seed"].is_number_unsigned()) throw trace_error("\"seed\" must be a non-negative integer or null");
    h.seed = j["seed"].get<std::uint64_t>();
  }
  if (!j.contains("host_name") || !j["host_name"].is_string()) throw trace_error("\"host_name\" is missing");
  h.host_name = j["host_name"];
  const std::string clock = j.value("clock", "");
  if (clock != "virtual" && clock != "system") throw trace_error("\"clock\" must be \"virtual\" or \"system\"");
  h.virtual_clock = clock == "virtual";
  const auto start = j.contains("start") && j["start"].is_string() ? core::parse_time(j["start"].get<std::string>())
                                                                    : std::nullopt;
  if (!start) throw trace_error("\"start\" must be a time like 2026-01-01T00:00:00.0000000Z");
  h.start = *start;
  return h;
}

void redact_secrets(json& j) {
  if (j.is_object()) {
    for (auto& [name, value] : j.items()) {
      if ((name == "primaryKey" || name == "secondaryKey") && value.is_string()) value = redacted;
      else redact_secrets(value);
    }
  } else if (j.is_array()) {
    for (auto& v : j) redact_secrets(v);
  }
}

void put_payload(json& event, const std::string& name, std::string_view bytes) {
  if (bytes.empty()) return;
  json parsed = json::parse(bytes, nullptr, false);
  if (!parsed.is_discarded()) {
    redact_secrets(parsed);
    event[name] = std::move(parsed);
  } else if (valid_utf8(bytes)) {
    event[name + "_text"] = std::string(bytes);
  } else {
    event[name + "_base64"] = core::base64_encode(bytes);
  }
}

std::string payload_bytes(const json& event, const std::string& name) {
  if (event.contains(name)) return event[name].dump();
  if (event.contains(name + "_text") && event[name + "_text"].is_string()) return event[name + "_text"];
  if (event.contains(name + "_base64") && event[name + "_base64"].is_string())
    return core::base64_decode(event[name + "_base64"].get<std::string>()).value_or("");
  return {};
}

std::optional<std::string> policy_of(std::string_view authorization) {
  try {
    return core::sas_token::parse(authorization).key_name();
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

trace_recorder::trace_recorder(recorder_options options) : options_(std::move(options)) {
  if (!options_.now) throw std::invalid_argument("trace_recorder: a time source is required");
  if (!options_.file.empty()) {
    out_.open(options_.file, std::ios::out | std::ios::trunc | std::ios::binary);
    if (!out_) {
      const int err = errno;
      throw trace_error("cannot write the trace file " + options_.file.string() + ": " +
                        (err ? std::strerror(err) : "cannot open it"));
    }
  }
  const json header = to_json(options_.header);
  if (out_.is_open()) out_ << header.dump() << '\n' << std::flush;
  if (options_.listener) options_.listener(header);
}

trace_recorder::~trace_recorder() = default;

std::uint64_t trace_recorder::events() const {
  std::lock_guard lock(mutex_);
  return seq_;
}

void trace_recorder::record(json event) {
  std::lock_guard lock(mutex_);
  event["seq"] = ++seq_;
  event["time"] = core::format_time(options_.now());
  if (out_.is_open()) out_ << event.dump(-1, ' ', false, json::error_handler_t::replace) << '\n' << std::flush;
  if (options_.listener) options_.listener(event);
}

json trace_recorder::kept_headers(const header_list& headers) const {
  json kept = json::object();
  for (const auto& [name, value] : headers) {
    const std::string n = lower(name);
    const bool keep = std::find(kept_header_names.begin(), kept_header_names.end(), n) != kept_header_names.end() ||
                      (n == "x-ms-request-id" && options_.header.seed);
    if (keep) kept[n] = value;
  }
  return kept;
}

void trace_recorder::device_connected(std::string_view device_id, const json& details) {
  json e = {{"dir", "device->hub"}, {"kind", "connect"}, {"device", device_id}};
  for (const char* k : {"api_version", "client_type", "model_id", "clean_session"})
    if (details.contains(k)) e[k] = details[k];
  record(std::move(e));
}

void trace_recorder::device_disconnected(std::string_view device_id) {
  record({{"dir", "device->hub"}, {"kind", "disconnect"}, {"device", device_id}});
}

void trace_recorder::device_subscribed(std::string_view device_id, std::string_view filter, bool subscribed) {
  record({{"dir", "device->hub"}, {"kind", subscribed ? "subscribe" : "unsubscribe"}, {"device", device_id}, {"filter", filter}});
}

void trace_recorder::device_published(std::string_view device_id, std::string_view topic, std::string_view payload) {
  json e = {{"dir", "device->hub"}, {"kind", "publish"}, {"device", device_id}, {"topic", topic}};
  put_payload(e, "payload", payload);
  record(std::move(e));
}

void trace_recorder::hub_published(std::string_view device_id, std::string_view topic, std::string_view payload) {
  json e = {{"dir", "hub->device"}, {"kind", "publish"}, {"device", device_id}, {"topic", topic}};
  put_payload(e, "payload", payload);
  record(std::move(e));
}

void trace_recorder::device_kicked(std::string_view device_id) {
  record({{"dir", "hub->device"}, {"kind", "kick"}, {"device", device_id}});
}

std::uint64_t trace_recorder::http_request(const http_request_view& request) {
  json e = {{"dir", "client->hub"},
            {"kind", "request"},
            {"scheme", request.tls ? "https" : "http"},
            {"method", request.method},
            {"path", request.path}};
  if (!request.query.empty()) e["query"] = request.query;
  std::optional<std::string> identity;
  for (const auto& [name, value] : request.headers)
    if (lower(name) == "authorization") identity = policy_of(value);
  e["identity"] = identity ? json(*identity) : json(nullptr);
  e["headers"] = kept_headers(request.headers);
  put_payload(e, "body", request.body);
  std::uint64_t exchange = 0;
  {
    std::lock_guard lock(mutex_);
    exchange = ++exchanges_;
  }
  e["exchange"] = exchange;
  record(std::move(e));
  return exchange;
}

void trace_recorder::http_response(std::uint64_t exchange, const http_response_view& response) {
  json e = {{"dir", "hub->client"}, {"kind", "response"}, {"exchange", exchange}, {"status", response.status}};
  e["headers"] = kept_headers(response.headers);
  put_payload(e, "body", response.body);
  record(std::move(e));
}

void trace_recorder::clock_advanced(core::duration by, core::time_point to) {
  const double seconds = std::chrono::duration<double>(by).count();
  record({{"dir", "hub"}, {"kind", "clock"}, {"seconds", seconds}, {"to", core::format_time(to)}});
}

}  // namespace mockhub::trace
