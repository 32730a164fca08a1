#include "sas_authentication.hpp"

#include <algorithm>
#include <chrono>

#include "errors.hpp"
#include "sas_token.hpp"
#include "time_format.hpp"

namespace mockhub::core {

namespace {

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

/// The string-to-sign with its newline shown as `\n`, so the message stays on one line.
std::string shown_string_to_sign(const sas_token& token) {
  std::string shown;
  for (const char c : token.string_to_sign()) {
    if (c == '\n') shown += "\\n";
    else shown += c;
  }
  return quoted(shown);
}

/// True when `key` verifies the token; a key that cannot sign (empty, not base64) never does.
bool verifies(const sas_token& token, std::string_view key) {
  try {
    return token.is_signed_with(key);
  } catch (const hub_error&) {
    return false;
  }
}

std::string expired_message(const sas_token& token, time_point now) {
  std::string expiry = "se=" + std::to_string(token.expiry_seconds());
  if (token.expiry() != time_point::max()) expiry = format_time(token.expiry()) + " (" + expiry + ")";
  return "SAS token expired at " + expiry + "; the hub time is " + format_time(now) + ".";
}

const shared_access_policy* find_policy(std::span<const shared_access_policy> policies, std::string_view name) {
  const auto it = std::ranges::find(policies, name, &shared_access_policy::name);
  return it == policies.end() ? nullptr : &*it;
}

std::string does_not_allow(const shared_access_policy& policy, permission needed) {
  return "Authorization rule " + quoted(policy.name) + " does not allow access for " + quoted(to_string(needed)) +
         " (it grants " + (policy.rights.empty() ? std::string("nothing") : to_string(policy.rights)) + ").";
}

}  // namespace

const shared_access_policy& authenticate_service_request(std::string_view authorization, std::string_view host_name,
                                                         permission needed,
                                                         std::span<const shared_access_policy> policies,
                                                         time_point now) {
  if (authorization.empty()) throw errors::iothub_unauthorized_access("Authorization header missing.");
  const sas_token token = sas_token::parse(authorization);  // throws 401002 "Malformed SAS token: ..."
  if (!token.key_name()) {
    throw errors::iothub_unauthorized_access(
        "The SAS token has no 'skn': it is a device-scoped token, and the service API needs a token signed "
        "with a shared access policy key.");
  }
  const shared_access_policy* policy = find_policy(policies, *token.key_name());
  if (policy == nullptr) {
    throw errors::iothub_unauthorized_access("Unknown shared access policy " + quoted(*token.key_name()) +
                                             " (skn).");
  }
  if (!verifies(token, policy->primary_key) && !verifies(token, policy->secondary_key)) {
    throw errors::iothub_unauthorized_access(
        "The SAS token signature does not match the primary or secondary key of shared access policy " +
        quoted(policy->name) + ". String to sign: " + shown_string_to_sign(token) + ".");
  }
  if (token.is_expired_at(now)) throw errors::iothub_unauthorized_access("The " + expired_message(token, now));
  if (!token.covers(host_name)) {
    throw errors::iothub_unauthorized_access("The SAS token's resource " + quoted(token.resource()) +
                                             " (sr) does not cover the hub " + quoted(host_name) + ".");
  }
  if (!policy->rights.contains(needed)) throw errors::iothub_unauthorized_access(does_not_allow(*policy, needed));
  return *policy;
}

device_connect_grant authenticate_device_connect(const device_connect_request& request,
                                                 std::span<const shared_access_policy> policies, time_point now) {
  const auto refuse = [&](const std::string& why) {
    return errors::iothub_unauthorized("Authentication failed for device " + quoted(request.device_id) + ": " + why);
  };

  std::optional<sas_token> parsed;
  try {
    parsed = sas_token::parse(request.password);
  } catch (const hub_error& e) {
    throw refuse(std::string(e.message()));
  }
  const sas_token& token = *parsed;

  device_connect_grant grant{.policy_name = token.key_name(), .expires = token.expiry()};
  if (token.key_name()) {
    const shared_access_policy* policy = find_policy(policies, *token.key_name());
    if (policy == nullptr) throw refuse("unknown shared access policy " + quoted(*token.key_name()) + " (skn).");
    if (!policy->rights.contains(permission::device_connect)) {
      throw refuse(does_not_allow(*policy, permission::device_connect));
    }
    if (!verifies(token, policy->primary_key) && !verifies(token, policy->secondary_key)) {
      throw refuse("the SAS token signature does not match the primary or secondary key of shared access policy " +
                   quoted(policy->name) + ". String to sign: " + shown_string_to_sign(token) + ".");
    }
  } else if (!verifies(token, request.primary_key) && !verifies(token, request.secondary_key)) {
    throw refuse("the SAS token signature does not match the device's primary or secondary key. String to sign: " +
                 shown_string_to_sign(token) + ".");
  }
  if (token.is_expired_at(now)) throw refuse("the " + expired_message(token, now));
  const std::string resource = std::string(request.host_name) + "/devices/" + std::string(request.device_id);
  if (!token.covers(resource)) {
    throw refuse("the SAS token's resource " + quoted(token.resource()) + " (sr) does not cover " + quoted(resource) +
                 ".");
  }
  return grant;
}

}  // namespace mockhub::core
