// What the plugin knows to admit devices: the hub's host name, each identity's keys and status,
// and the shared access policies, as the hub pushes them on `$hub/ctl/auth` (README.md):
//
//   {"mode":"snapshot","host":"h","devices":{"d":{"primary":"k","secondary":"k","enabled":true}},
//    "policies":[{"name":"iothubowner","primary":"k","secondary":"k","device_connect":true}]}
//   {"mode":"delta","devices":{"d":{...},"gone":null},"policies":[...]}
//
// A module's entry is keyed by its client id, `deviceId/moduleId`.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mock_hub/core/access_policies.hpp"

namespace mockhub::broker_plugin {

struct device_credentials {
  std::string primary_key{};    // base64; empty never verifies
  std::string secondary_key{};
  bool enabled = true;
};

class credential_store {
 public:
  /// Applies one `$hub/ctl/auth` message. A snapshot replaces everything; a delta adds or
  /// replaces the devices it names (null removes one), replaces the policy list when it has
  /// `policies`, and the host when it has `host`. Entry fields: `primary`, `secondary` (strings,
  /// default ""), `enabled` (default true); policies: `name` (required), `primary`, `secondary`,
  /// `device_connect` (default false).
  /// Throws std::invalid_argument naming the problem (not JSON, unknown mode, a snapshot without
  /// host, a delta before any snapshot, a member of the wrong type); the store is unchanged then.
  void apply(std::string_view payload);
  void apply_json(const nlohmann::json& message);

  /// Forgets everything (the hub disconnected): `ready()` is false until the next snapshot.
  void clear() noexcept;

  /// Whether a snapshot has arrived since the start or the last `clear()`.
  bool ready() const noexcept { return ready_; }
  /// The host name device tokens are scoped to (`sr` = `{host}/devices/{id}`).
  const std::string& host() const noexcept { return host_; }
  /// The identity with this client id (`deviceId` or `deviceId/moduleId`), or nullptr.
  const device_credentials* find(std::string_view client_id) const;
  std::size_t device_count() const noexcept { return devices_.size(); }
  /// The policies; rights hold DeviceConnect or nothing.
  std::span<const core::shared_access_policy> policies() const noexcept { return policies_; }

 private:
  bool ready_ = false;
  std::string host_;
  std::map<std::string, device_credentials, std::less<>> devices_;
  std::vector<core::shared_access_policy> policies_;
};

}  // namespace mockhub::broker_plugin
