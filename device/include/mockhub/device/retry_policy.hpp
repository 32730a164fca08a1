// When to try connecting again. The client asks a retry_controller after every failed attempt
// or lost connection; the controller asks the policy for a delay and the clock for the time.
// Both are seams (trompeloeil-mockable).
//
// An auth refusal (CONNACK 4 or 5) is never retried: the same credentials would be refused again
// (the official SDKs treat UnauthorizedException as not transient). The client stops with
// reason `bad_credential` until the application calls connect() again.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

#include "mockhub/device/clock.hpp"

namespace mockhub::device {

/// Why a connection attempt failed or a connection ended.
enum class failure_kind {
  network,             ///< TCP/TLS failure, connection refused, or the connection dropped
  connect_timeout,     ///< no CONNACK (or SUBACK) within connect_timeout
  server_unavailable,  ///< CONNACK 3
  refused,             ///< CONNACK 1 or 2 (protocol version, identifier rejected)
  not_authorized,      ///< CONNACK 4 or 5: never retried
};
const char* to_string(failure_kind kind) noexcept;

class retry_policy {
 public:
  virtual ~retry_policy() = default;
  /// The delay before retry number `attempt` (1 after the first failure, 2 after the second, ...),
  /// or nullopt to give up.
  virtual std::optional<std::chrono::milliseconds> next_delay(unsigned attempt) = 0;
};

struct exponential_backoff_options {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{10'000};
  double multiplier = 2.0;
  /// Each delay is scaled by a uniform factor in [1 - jitter, 1 + jitter] (then capped at `max`).
  double jitter = 0.2;
  /// 0: never give up.
  unsigned max_attempts = 0;
  /// Seed of the jitter; equal seeds give equal delays.
  std::uint64_t seed = 0x6d6f636b687562;
};

/// initial * multiplier^(attempt-1), capped, with jitter; like the SDKs' exponential backoff.
class exponential_backoff final : public retry_policy {
 public:
  explicit exponential_backoff(exponential_backoff_options options = {});
  std::optional<std::chrono::milliseconds> next_delay(unsigned attempt) override;
  const exponential_backoff_options& options() const noexcept { return options_; }

 private:
  exponential_backoff_options options_;
  std::mt19937_64 random_;
};

/// Never retries.
class no_retry final : public retry_policy {
 public:
  std::optional<std::chrono::milliseconds> next_delay(unsigned) override { return std::nullopt; }
};

/// Counts consecutive failures and turns them into the time of the next attempt.
class retry_controller {
 public:
  struct decision {
    bool retry = false;
    unsigned attempt = 0;  ///< the retry number asked of the policy (0 when not asked)
    std::chrono::milliseconds delay{0};
    clock::time_point at{};
  };

  retry_controller(retry_policy& policy, clock& clk) : policy_(policy), clock_(clk) {}

  /// A connection attempt failed or an established connection ended.
  decision on_failure(failure_kind kind);
  /// A connection was established: the next failure counts from 1 again.
  void on_connected() noexcept { failures_ = 0; }
  unsigned consecutive_failures() const noexcept { return failures_; }

 private:
  retry_policy& policy_;
  clock& clock_;
  unsigned failures_ = 0;
};

}  // namespace mockhub::device
