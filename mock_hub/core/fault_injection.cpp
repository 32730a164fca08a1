#include "fault_injection.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <utility>

namespace mockhub::core {
namespace {

constexpr std::array<std::pair<std::string_view, fault_action>, 5> mqtt_faults{{
    {"KillTcp", fault_action::drop_connection},
    {"ShutDownMqtt", fault_action::drop_connection},
    {"InvokeThrottling", fault_action::drop_on_send},
    {"InvokeMaxMessageQuota", fault_action::drop_on_send},
    {"InvokeAuthError", fault_action::refuse_connections},
}};

std::optional<std::string> property(const application_properties& p, std::string_view name) {
  const auto it = p.find(std::string(name));
  if (it == p.end()) return std::nullopt;
  return it->second.value_or("");
}

// "5", "1.5" (C# sends TimeSpan.TotalSeconds); absent means 0. nullopt: not seconds in range.
std::optional<duration> seconds(const application_properties& p, std::string_view name) {
  const auto text = property(p, name);
  if (!text) return duration{};
  double value = 0;
  const char* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc{} || ptr != end || !std::isfinite(value) || value < 0) return std::nullopt;
  const auto d = std::chrono::duration_cast<duration>(std::chrono::duration<double>(value));
  if (d > max_fault_seconds) return std::nullopt;
  return d;
}

}  // namespace

std::optional<fault_request> fault_requested(const application_properties& properties) {
  const auto type = property(properties, fault_properties::operation_type);
  if (!type) return std::nullopt;
  fault_request r;
  bool known = false;
  for (const auto& [name, action] : mqtt_faults) {
    if (*type == name) {
      r.action = action;
      known = true;
    }
  }
  if (!known) return std::nullopt;
  const auto delay = seconds(properties, fault_properties::delay_in_secs);
  const auto length = seconds(properties, fault_properties::duration_in_secs);
  if (!delay || !length) return std::nullopt;
  r.operation_type = *type;
  r.close_reason = property(properties, fault_properties::close_reason).value_or("");
  r.delay = *delay;
  r.fault_duration = *length;
  return r;
}

}  // namespace mockhub::core
