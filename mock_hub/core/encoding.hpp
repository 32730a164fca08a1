// Byte-level encodings the IoT Hub protocols use: base64 (keys, signatures, etags) and
// percent-encoding (SAS tokens, MQTT property bags, REST paths).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mockhub::core {

std::string base64_encode(std::string_view bytes);
/// Strict standard base64 (with padding); nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view text);

/// Percent-encodes every byte except the RFC 3986 unreserved set (A-Z a-z 0-9 - . _ ~),
/// with upper-case hex, as JavaScript's encodeURIComponent does for ASCII.
std::string url_encode(std::string_view text);
/// Decodes %XX escapes (either case). With `plus_is_space`, '+' decodes to a space
/// (application/x-www-form-urlencoded). nullopt for a malformed escape.
std::optional<std::string> url_decode(std::string_view text, bool plus_is_space = false);

}  // namespace mockhub::core
