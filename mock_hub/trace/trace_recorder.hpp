// Records a hub's traffic as a trace: JSON Lines, a header line, then one event per line
// (docs/trace-format.md). Thread-safe: the broker link's executor thread and the REST server's
// threads record concurrently; each event gets the next sequence number and the hub clock's time
// under one lock, so the file's order is the order the hub handled things in.
//
//   trace::trace_recorder r({.file = "run.jsonl", .header = {...}, .now = [&] { return clk.now(); }});
//   link.set_observer(&r);  rest.set_observer(&r);
//
// Secrets never reach the file: the Authorization header is reduced to the policy name that
// signed it (`identity`), and every JSON member named primaryKey or secondaryKey is redacted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "traffic_observer.hpp"

namespace mockhub::trace {

/// Format version written in the header (`version`); replay refuses other versions.
inline constexpr int format_version = 1;
/// What a redacted secret is replaced with.
inline constexpr std::string_view redacted = "<redacted>";

/// The first line of a trace.
struct trace_header {
  std::string mockhub_version = MOCKHUB_VERSION;
  std::optional<std::uint64_t> seed{};
  std::string host_name = "localhost";
  bool virtual_clock = false;
  core::time_point start{};
};
nlohmann::json to_json(const trace_header& h);
/// Throws trace_error naming the member that is missing or wrong.
trace_header header_from_json(const nlohmann::json& j);

class trace_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct recorder_options {
  /// The trace file (created or truncated). Empty: events only go to `listener`.
  std::filesystem::path file{};
  trace_header header{};
  /// The hub clock's time; called from any recording thread, so it must be thread-safe.
  std::function<core::time_point()> now{};
  /// Called with every event (and first the header), in order, under the recorder's lock: keep it short.
  std::function<void(const nlohmann::json& line)> listener{};
};

class trace_recorder final : public traffic_observer {
 public:
  /// Opens the file and writes the header. Throws trace_error ("cannot write the trace file
  /// PATH: reason") when it cannot be created.
  explicit trace_recorder(recorder_options options);
  ~trace_recorder() override;

  void device_connected(std::string_view device_id, const nlohmann::json& details) override;
  void device_disconnected(std::string_view device_id) override;
  void device_subscribed(std::string_view device_id, std::string_view filter, bool subscribed) override;
  void device_published(std::string_view device_id, std::string_view topic, std::string_view payload) override;
  void hub_published(std::string_view device_id, std::string_view topic, std::string_view payload) override;
  void device_kicked(std::string_view device_id) override;
  std::uint64_t http_request(const http_request_view& request) override;
  void http_response(std::uint64_t exchange, const http_response_view& response) override;
  void clock_advanced(core::duration by, core::time_point to) override;

  /// Events recorded so far (the header not counted).
  std::uint64_t events() const;

 private:
  void record(nlohmann::json event);
  nlohmann::json kept_headers(const header_list& headers) const;

  recorder_options options_;
  std::ofstream out_;
  mutable std::mutex mutex_;
  std::uint64_t seq_ = 0;
  std::uint64_t exchanges_ = 0;
};

/// Puts `bytes` into `event` as `name` (parsed JSON, secrets redacted), `name_text` (UTF-8 text
/// that is not JSON) or `name_base64`; nothing when empty.
void put_payload(nlohmann::json& event, const std::string& name, std::string_view bytes);
/// The bytes put_payload stored (JSON re-serialised compactly); empty when none.
std::string payload_bytes(const nlohmann::json& event, const std::string& name);
/// Replaces the value of every member named primaryKey or secondaryKey with `redacted`.
void redact_secrets(nlohmann::json& j);
/// The policy name (`skn`) of a SAS Authorization header; nullopt for a device token or anything unreadable.
std::optional<std::string> policy_of(std::string_view authorization);

}  // namespace mockhub::trace
