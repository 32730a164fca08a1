// An IoT Hub shared access signature (SAS) token (reference/iothub-protocol.md section 2.1):
//
//   SharedAccessSignature sr={url-encoded resource URI}&sig={url-encoded base64 HMAC}&se={expiry}[&skn={policy}]
//
// - `sr`  the resource the token is scoped to, with no scheme: `{host}` for the whole hub,
//         `{host}/devices` for every device, `{host}/devices/{id}` for one device.
// - `se`  expiry, whole seconds since the Unix epoch (UTC). The token is valid while now < se.
// - `skn` the shared access policy whose key signed the token; absent when a device key signed it.
// - `sig` base64(HMAC-SHA256(base64-decoded key, `sr` as it appears in the token + "\n" + se)).
//
// Producers differ in field order and in the case of percent escapes (the Node SDK writes `%2F`,
// the docs' table `%2f`), so the signature is checked over `sr` exactly as it appears in the
// token, and the scope is checked on the decoded `sr`, case-insensitively.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "clock.hpp"

namespace mockhub::core {

class sas_token {
 public:
  /// The largest `se` accepted: 9999-12-31T23:59:59Z, the end of .NET's DateTime range (the
  /// hub's own parser adds `se` seconds to the epoch as a DateTime). Long-lived tokens up to
  /// that instant are accepted like any other.
  static constexpr std::int64_t max_expiry = 253402300799;

  /// Parses a token (the MQTT CONNECT password, or an `Authorization` header value): the word
  /// `SharedAccessSignature`, one space, then `&`-separated `name=value` fields in any order.
  /// Field names match case-insensitively, empty pairs (`&&`) and unknown fields are ignored,
  /// values are percent-decoded with `+` as a space (as .NET's WebUtility.UrlDecode does).
  /// Throws hub_error 401002 IotHubUnauthorizedAccess naming the problem ("Malformed SAS token:
  /// ...") for a missing, duplicate or empty sr/sig/se/skn, a bad percent escape, a `sig` that
  /// is not base64, or an `se` that is not a whole non-negative number up to `max_expiry`.
  static sas_token parse(std::string_view text);

  /// Creates a token as the official SDKs do: `sr` is `resource_uri` percent-encoded like
  /// JavaScript's encodeURIComponent, fields in the order sr, sig, se[, skn]. Pass the policy
  /// name for a policy token, nothing for a device token. `key` is the base64 key.
  /// Throws hub_error 400004 ArgumentInvalid when the key is empty or not base64, or when the
  /// expiry is negative or past `max_expiry`.
  static std::string create(std::string_view resource_uri, std::string_view key, std::int64_t expiry_seconds,
                            std::string_view policy_name = {});
  /// As above, with the expiry as a time (rounded down to whole seconds).
  static std::string create(std::string_view resource_uri, std::string_view key, time_point expiry,
                            std::string_view policy_name = {});

  /// `sr` exactly as it appears in the token (still percent-encoded): what the signature covers.
  const std::string& encoded_resource() const noexcept { return encoded_resource_; }
  /// `sr` decoded: what the scope check uses.
  const std::string& resource() const noexcept { return resource_; }
  /// `se`, seconds since the Unix epoch.
  std::int64_t expiry_seconds() const noexcept { return expiry_; }
  /// `se` as a time; time_point::max() when `se` lies beyond what a time_point holds (year 2262).
  time_point expiry() const noexcept;
  /// `se` seconds as a time point, saturating at time_point::max() (past the year 2262, where a
  /// nanosecond time point ends; `se` may go up to 9999).
  static time_point expiry_at(std::int64_t expiry_seconds) noexcept;
  /// `skn` decoded; nullopt for a device-key token.
  const std::optional<std::string>& key_name() const noexcept { return key_name_; }

  /// The string the signature covers: encoded `sr` + "\n" + `se`. It holds no secret, so error
  /// messages may show it (as Azurite logs it).
  std::string string_to_sign() const;

  /// True when `key` (base64) signed this token. Compares in constant time (CRYPTO_memcmp).
  /// Throws hub_error 400004 ArgumentInvalid when the key is empty or not base64: an empty key
  /// would let anyone sign, so it never verifies anything.
  bool is_signed_with(std::string_view key) const;

  /// True once `now` has reached `se` (a token with se <= now is expired; no clock skew allowed).
  bool is_expired_at(time_point now) const noexcept;

  /// True when the decoded `sr` covers `resource` (see `resource_covers`).
  bool covers(std::string_view resource) const noexcept { return resource_covers(resource_, resource); }

  /// Whether a token scoped to `scope` may be used on `resource`: `scope` must be a segment-wise,
  /// case-insensitive prefix of `resource`. `h/devices/a` covers `h/devices/a` and
  /// `h/devices/a/x`, not `h/devices/ab`; `h/devices` covers every device; `h` covers the whole
  /// hub. A trailing `/` on the scope is ignored. An empty scope covers nothing.
  static bool resource_covers(std::string_view scope, std::string_view resource) noexcept;

 private:
  sas_token() = default;

  std::string encoded_resource_;
  std::string resource_;
  std::string signature_;    // raw HMAC bytes (base64-decoded `sig`)
  std::string expiry_text_;  // `se` decoded, as signed
  std::int64_t expiry_ = 0;
  std::optional<std::string> key_name_;
};

}  // namespace mockhub::core
