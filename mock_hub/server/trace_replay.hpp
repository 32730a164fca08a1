// Replays a recorded trace (docs/trace-format.md) against a fresh hub and compares what the hub
// does with what was recorded: what `mockhub replay [--verify] TRACE` runs, callable from tests.
//
// The fresh hub runs on a virtual clock with the trace's seed and host name (plain MQTT and HTTP,
// no TLS). The replay walks the trace line by line: it plays the back end (each recorded HTTP
// request, signed with the fresh hub's key of the recorded policy) and the devices (plain MQTT
// clients: connect, subscribe, publish what they published, answer method requests with the
// recorded responses), moves the clock as recorded, and after each line waits (bounded) until the
// fresh hub has recorded its own event with that sequence number, then compares the two.
#pragma once

#include <chrono>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mockhub::server {

struct replay_options {
  std::filesystem::path trace;
  /// Compare every event with the recording and report the differences; without it the trace
  /// is only played (a way to put a hub in a recorded state).
  bool verify = true;
  /// How long to wait for the fresh hub to produce each event.
  std::chrono::milliseconds step_timeout{std::chrono::seconds(20)};
  /// The broker plugin and mosquitto binary (empty: the defaults of hub_runtime).
  std::filesystem::path plugin{};
  std::filesystem::path mosquitto_binary{};
};

/// Exit codes of `mockhub replay`.
enum class replay_outcome : int { identical = 0, different = 1, unreadable = 2 };

/// One difference: the trace line, the event, and `path: expected != actual` for each member.
struct replay_difference {
  std::size_t line = 0;
  std::string event;
  std::vector<std::string> members;
};

struct replay_report {
  replay_outcome outcome = replay_outcome::identical;
  std::vector<replay_difference> differences;
  std::string error;  ///< why the trace is unreadable (with its line), when outcome is unreadable
  std::size_t events = 0;
};

/// Replays `options.trace`; prints every difference (or the reason the trace is unreadable) to
/// `out` as it goes, and a summary line at the end.
replay_report replay_trace(const replay_options& options, std::ostream& out);

/// The differences between two JSON values as `path: expected != actual` lines (`path` joins
/// member names with `.` and indexes as `[i]`; `(absent)` for a missing member). An expected
/// "<redacted>" (a secret left out of the trace) matches anything.
std::vector<std::string> json_differences(const nlohmann::json& expected, const nlohmann::json& actual,
                                          const std::string& path = {});

}  // namespace mockhub::server
