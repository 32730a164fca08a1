#include "mockhub/device/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace mockhub::device {

const char* to_string(failure_kind kind) noexcept {
  switch (kind) {
    case failure_kind::network: return "network";
    case failure_kind::connect_timeout: return "connect_timeout";
    case failure_kind::server_unavailable: return "server_unavailable";
    case failure_kind::refused: return "refused";
    case failure_kind::not_authorized: return "not_authorized";
  }
  return "?";
}

exponential_backoff::exponential_backoff(exponential_backoff_options options)
    : options_(options), random_(options.seed) {}

std::optional<std::chrono::milliseconds> exponential_backoff::next_delay(unsigned attempt) {
  if (attempt == 0) attempt = 1;
  if (options_.max_attempts != 0 && attempt > options_.max_attempts) return std::nullopt;
  const double base = static_cast<double>(options_.initial.count()) *
                      std::pow(options_.multiplier, static_cast<double>(std::min(attempt - 1, 64u)));
  const double capped = std::min(base, static_cast<double>(options_.max.count()));
  double factor = 1.0;
  if (options_.jitter > 0) {
    std::uniform_real_distribution<double> dist(1.0 - options_.jitter, 1.0 + options_.jitter);
    factor = dist(random_);
  }
  const double ms = std::clamp(capped * factor, 0.0, static_cast<double>(options_.max.count()));
  return std::chrono::milliseconds{static_cast<std::int64_t>(std::llround(ms))};
}

retry_controller::decision retry_controller::on_failure(failure_kind kind) {
  ++failures_;
  decision d;
  if (kind == failure_kind::not_authorized) return d;  // never with the same credentials
  d.attempt = failures_;
  const auto delay = policy_.next_delay(failures_);
  if (!delay) return d;
  d.retry = true;
  d.delay = *delay;
  d.at = clock_.now() + *delay;
  return d;
}

}  // namespace mockhub::device
