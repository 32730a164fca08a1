// Byte-level encodings the IoT Hub protocols use: base64 (keys, signatures, etags) and
// percent-encoding (SAS tokens, MQTT property bags, REST paths).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

/// The MQTT property bag of IoT Hub topics (reference section 1.6), as ordered pairs: `k=v&k2=v2`,
/// each key and value percent-encoded; a key alone is a null value, `key=` an empty string.
/// Both sides use it: the hub's broker link and the device library.
using property_list = std::vector<std::pair<std::string, std::optional<std::string>>>;
/// Splits and decodes a bag; empty pairs (`&&`) are skipped. nullopt for a malformed escape.
std::optional<property_list> parse_property_bag(std::string_view bag);
/// Encodes pairs in the given order with `url_encode` (so `$.mid` becomes `%24.mid`, as the Node SDK writes it).
std::string format_property_bag(const property_list& properties);

/// The value of `key` in the `?k=v&...` part of an IoT Hub topic (`$rid`, `$version`), names and
/// values percent-decoded; "" for a bare `key`; nullopt when absent or badly escaped.
std::optional<std::string> topic_query_value(std::string_view topic, std::string_view key);

}  // namespace mockhub::core
