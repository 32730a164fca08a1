// The hub's shared access policies (reference/iothub-protocol.md section 2.3): named key pairs
// that each grant a set of permissions to whoever signs a SAS token with either key (`skn` names
// the policy). On a real hub they are managed through the resource provider (ARM), not the
// data-plane API; mockhub manages them here so fixtures and tests can pin names and keys.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "id_source.hpp"
#include "permissions.hpp"

namespace mockhub::core {

struct shared_access_policy {
  std::string name{};           // `keyName`, the `skn` of its tokens
  std::string primary_key{};    // base64; empty = generate when added
  std::string secondary_key{};  // base64; empty = generate when added
  permissions rights{};         // `rights`
};

class access_policies {
 public:
  /// At most 16 policies per hub, of which at most 10 may grant ServiceConnect [Doc quotas].
  static constexpr std::size_t max_policies = 16;
  static constexpr std::size_t max_service_connect_policies = 10;

  /// A new hub's policies, with keys drawn from `ids` in this order (primary then secondary):
  /// iothubowner (all four), service (ServiceConnect), device (DeviceConnect),
  /// registryRead (RegistryRead), registryReadWrite (RegistryRead + RegistryWrite).
  /// `ids` must outlive this object (it also keys policies added later without keys).
  explicit access_policies(id_source& ids);

  /// Every policy, in the order added. Valid until the next change.
  std::span<const shared_access_policy> list() const noexcept { return policies_; }
  std::size_t size() const noexcept { return policies_.size(); }
  /// The policy named exactly `name` (names are case-sensitive for lookup, like `skn`), or nullptr.
  const shared_access_policy* find(std::string_view name) const noexcept;

  /// Adds a policy. An empty key is generated from the id source.
  /// Throws hub_error 400004 ArgumentInvalid when the name breaks the naming rule (1-64 of
  /// `A-Z a-z 0-9 ! . _ -`), a policy of that name exists (compared case-insensitively), the
  /// policy grants nothing, a key is not base64, or the hub would exceed 16 policies or 10
  /// policies granting ServiceConnect. Returns the stored policy (valid until the next change).
  const shared_access_policy& add_policy(shared_access_policy policy);

  /// Replaces the rights of an existing policy; throws 400004 as `add_policy` does (unknown
  /// name, no rights, more than 10 ServiceConnect policies).
  const shared_access_policy& update_policy(std::string_view name, permissions rights);

  /// Pins both keys of an existing policy (fixtures, tests, key rolls). Throws 400004 for an
  /// unknown policy or a key that is empty or not base64.
  const shared_access_policy& set_keys(std::string_view name, std::string primary_key, std::string secondary_key);

  /// Removes a policy (built-ins included, as on a real hub). Throws 400004 for an unknown name.
  void remove_policy(std::string_view name);

  /// Called after every change (the hub persists the policies then).
  void on_change(std::function<void()> listener) { on_change_ = std::move(listener); }
  /// Replaces every policy with stored ones (at load; no checks, no change reported).
  void restore(std::vector<shared_access_policy> policies) { policies_ = std::move(policies); }

  /// Whether `name` follows the policy naming rule: 1 to 64 characters, each a letter, digit,
  /// `!`, `.`, `_` or `-`.
  static bool is_valid_name(std::string_view name) noexcept;

 private:
  shared_access_policy& existing(std::string_view name);
  std::size_t service_connect_count_excluding(std::string_view name) const noexcept;

  id_source& ids_;
  void changed() const {
    if (on_change_) on_change_();
  }

  std::vector<shared_access_policy> policies_;
  std::function<void()> on_change_;
};

}  // namespace mockhub::core
