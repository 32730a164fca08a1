// The two SAS authentication entry points of the hub. Adapters call them directly: the REST
// adapter with each request's `Authorization` header, the broker plugin with each MQTT CONNECT
// password. Both are pure functions of their arguments and `now` (no clock, no state), so the
// plugin can run them on the credential snapshot the hub pushes to it.
//
// Checks, in order: token format, who signed it (policy `skn` or device key), signature (either
// of the two keys), expiry (valid while now < se), scope (`sr` covers the resource, see
// sas_token::resource_covers; host names compare case-insensitively), then permission.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "access_policies.hpp"
#include "clock.hpp"
#include "permissions.hpp"

namespace mockhub::core {

/// Authenticates a service API request. `authorization` is the `Authorization` header value,
/// `host_name` the hub's host name (what service tokens put in `sr`), `needed` the permission
/// the operation requires (registry reads RegistryRead, twin/method/job/query calls
/// ServiceConnect, ...). Returns the policy that granted access (a reference into `policies`).
///
/// Throws hub_error 401002 IotHubUnauthorizedAccess whose message says exactly why: an empty
/// header ("Authorization header missing"), a malformed token ("Malformed SAS token: ..."), a
/// token with no `skn` (device-scoped tokens cannot call the service API), an unknown policy,
/// a signature matching neither key of the policy (the message shows the string-to-sign, which
/// holds no secret), an expired token, an `sr` that does not cover `host_name`, or a policy that
/// lacks `needed` ("Authorization rule 'x' does not allow access for 'RegistryRead'").
const shared_access_policy& authenticate_service_request(std::string_view authorization, std::string_view host_name,
                                                         permission needed,
                                                         std::span<const shared_access_policy> policies,
                                                         time_point now);

/// What an MQTT CONNECT presents, and the keys of the device it claims to be.
struct device_connect_request {
  std::string_view password;       // the SAS token
  std::string_view host_name;      // the hub's host name, as device tokens put it in `sr`
  std::string_view device_id;      // the identity connecting (the MQTT client id)
  std::string_view primary_key;    // the device's symmetric keys (base64); an empty or invalid
  std::string_view secondary_key;  // key never verifies anything
};

/// Who a successful CONNECT authenticated as.
struct device_connect_grant {
  /// The policy whose key signed the token (`skn`); nullopt when the device's own key did.
  std::optional<std::string> policy_name;
  /// When the token expires: the hub disconnects the device then (401003, then 404104).
  /// time_point::max() when `se` lies beyond what a time_point holds.
  time_point expires;
};

/// Authenticates an MQTT CONNECT. A token without `skn` is a device token: it must be signed
/// with one of the device's keys. A token with `skn` is a policy token: the policy must exist in
/// `policies`, grant DeviceConnect and have signed it with either key. Either way the token must
/// not be expired and its `sr` must cover `{host_name}/devices/{device_id}` segment-wise, so a
/// token for `dev10` or for another device is refused.
///
/// Throws hub_error 401003 IotHubUnauthorized naming the reason (the code a real hub logs for a
/// device whose authentication fails; the MQTT adapter answers CONNACK 5 Not authorized).
device_connect_grant authenticate_device_connect(const device_connect_request& request,
                                                 std::span<const shared_access_policy> policies, time_point now);

}  // namespace mockhub::core
