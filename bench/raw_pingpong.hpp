// The physical limit B1 and B6 are measured against: plain MQTT request/reply through the same
// mosquitto (started by the same launcher, no plugin, anonymous clients), no hub. One requester
// (libmosquitto with its own network thread, as the hub's broker link) publishes `q/{i}` to
// responder i and keeps a window of requests in flight; N responders (libmosquitto driven by the
// device library's event_loop on one thread, as the fleet's devices, in a child process) answer
// on `r/{i}`. QoS 0
// both ways, as direct methods.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

namespace mockhub::bench {

struct raw_run {
  double total_ms = 0;               ///< first request sent .. last answer received
  std::vector<double> latencies_ms;  ///< per request
  std::size_t answered = 0;
};

/// The responders' side (the child process): connects `count` responders to the broker on `port`
/// and answers until terminated.
int run_raw_responders(std::uint16_t port, std::size_t count);

class raw_pingpong {
 public:
  /// Starts the broker (ephemeral loopback port), connects `responders` responders (ramped, 64
  /// connecting at once as the fleet) and the requester. Throws std::runtime_error when they do
  /// not all connect within `timeout`.
  /// The responders run in a child process: `self` (this program) started as
  /// `self raw-responders PORT COUNT`, whose main calls run_raw_responders.
  raw_pingpong(const std::filesystem::path& self, std::size_t responders, std::size_t payload_bytes, std::chrono::seconds timeout);
  ~raw_pingpong();
  raw_pingpong(const raw_pingpong&) = delete;
  raw_pingpong& operator=(const raw_pingpong&) = delete;

  /// `requests` round trips, responders in turn, at most `window` in flight. Bounded by `timeout`
  /// (a run that times out returns what was answered).
  raw_run run(std::size_t requests, std::size_t window, std::chrono::seconds timeout);
  /// The broker's pid (for its memory and CPU time).
  int broker_pid() const;
  /// The responders' child process.
  int responders_pid() const;

 private:
  void start(std::size_t responders, std::chrono::seconds timeout);
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mockhub::bench
