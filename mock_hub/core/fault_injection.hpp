// The real hub's fault injection by message properties: a device sends telemetry carrying
// `AzIoTHub_FaultOperationType` (and `...CloseReason`, `...DelayInSecs`, `...DurationInSecs`) and
// the hub faults that device's own connection, so that SDK retry logic can be tested. The names
// and values are the ones the official SDKs' end-to-end tests send (C#, Node, C, Java
// FaultInjection helpers). This file only reads a message's properties; the hub schedules what
// they ask for (hub.cpp). What is honoured on MQTT is in docs/fidelity.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "clock.hpp"
#include "messages.hpp"

namespace mockhub::core {

/// What a fault message asks the hub to do to the sender's MQTT connection.
enum class fault_action {
  /// KillTcp, ShutDownMqtt: the connection is dropped once, after the delay.
  drop_connection,
  /// InvokeThrottling, InvokeMaxMessageQuota: dropped after the delay, and again on every
  /// telemetry message the device sends until the duration has passed (an MQTT 3.1.1 client
  /// sees a throttled or over-quota hub close its connection; there is no negative PUBACK).
  drop_on_send,
  /// InvokeAuthError: dropped after the delay, and connections refused (CONNACK 5, not
  /// authorized) until the duration has passed.
  refuse_connections,
};

struct fault_request {
  std::string operation_type;  ///< as sent, e.g. "KillTcp"
  std::string close_reason;    ///< as sent ("boom", "byebye", ...); informational
  fault_action action = fault_action::drop_connection;
  duration delay{};
  duration fault_duration{};
};

/// The property names and the operation types the SDKs' tests use.
namespace fault_properties {
inline constexpr std::string_view operation_type = "AzIoTHub_FaultOperationType";
inline constexpr std::string_view close_reason = "AzIoTHub_FaultOperationCloseReason";
inline constexpr std::string_view delay_in_secs = "AzIoTHub_FaultOperationDelayInSecs";
inline constexpr std::string_view duration_in_secs = "AzIoTHub_FaultOperationDurationInSecs";
}  // namespace fault_properties

/// Longest delay or duration honoured (a larger value makes the request ignored): an hour.
inline constexpr duration max_fault_seconds = std::chrono::hours(1);

/// The fault a telemetry message asks for on MQTT, or nullopt when it asks for none: no
/// `AzIoTHub_FaultOperationType`, an AMQP-only type (KillAmqp*, ShutDownAmqp), an unknown type,
/// or a delay or duration that is not a number of seconds from 0 to 3600 (missing means 0).
/// Such a message is ordinary telemetry.
std::optional<fault_request> fault_requested(const application_properties& properties);

}  // namespace mockhub::core
