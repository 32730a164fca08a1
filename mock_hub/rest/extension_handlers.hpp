// The handlers of mockhub's REST extension (docs/rest-extension.md), one per operation: what a
// test in any language needs beyond the IoT Hub API (reset, read telemetry, send a
// cloud-to-device message, inject a fault, read and move the clock). Same shape as handlers.hpp.
#pragma once

#include "request_context.hpp"

namespace mockhub::rest::extension_handlers {

/// POST /_mockhub/reset -> 204.
rest_response reset(request_context& c);
/// GET /_mockhub/devices/{id}/messages/events[?since=<time>] -> 200, the kept telemetry, oldest first.
rest_response get_device_telemetry(request_context& c);
/// POST /_mockhub/devices/{id}/messages/devicebound -> 200 {"messageId": ...}.
rest_response send_cloud_to_device_message(request_context& c);
/// POST /_mockhub/devices/{id}/faults {"type": "disconnect"} -> 204.
rest_response inject_fault(request_context& c);
/// GET /_mockhub/clock -> 200 {"now": ..., "virtual": ...}.
rest_response get_clock(request_context& c);
/// POST /_mockhub/clock/advance {"seconds": n} -> 200 {"now": ...}.
rest_response advance_clock(request_context& c);

}  // namespace mockhub::rest::extension_handlers
