// How a hub_error goes on the wire (reference section 5.0, sdk-captures/README.md):
//
//   HTTP <hub_error::http_status()>
//   iothub-errorcode: DeviceNotFound
//   {"Message":"ErrorCode:DeviceNotFound;Device 'd1' is not registered in this hub.;errorCode:404001",
//    "ExceptionMessage":"Tracking ID:<32 hex>-G:0-TimeStamp:11/26/2026 11:40:13"}
//
// One body serves every official SDK that reads it:
// - Node (azure-iot-http-base parseErrorBody): splits Message at ';', takes the name after the
//   first ':' of the first part and the message from the second part, and makes its typed
//   errors (DeviceNotFoundError, ...) from the name and the status.
// - C# v2 (ResponseMessage2) and C# v1 since the ';' fallback (ExceptionHandlingHelper): read
//   the first `ErrorCode:<Name>` part and compare it with the iothub-errorcode header; when the
//   name is not in their enum they go on to the `errorCode:<number>` part.
// The human message therefore never holds a ';' (replaced by ','), so it stays one part.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mock_hub/core/clock.hpp"
#include "mock_hub/core/errors.hpp"

namespace mockhub::rest {

/// The `Message` string: "ErrorCode:<Name>;<message without ';'>;errorCode:<code>".
std::string error_message_field(const core::hub_error& e);

/// "MM/dd/yyyy HH:mm:ss" in UTC, as the hub's tracking ids print time.
std::string tracking_timestamp(core::time_point t);

/// The whole error body, `tracking_id` being 32 hex digits.
nlohmann::json error_body(const core::hub_error& e, std::string_view tracking_id, core::time_point now);

}  // namespace mockhub::rest
