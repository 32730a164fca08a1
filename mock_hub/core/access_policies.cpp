#include "access_policies.hpp"

#include <algorithm>
#include <utility>

#include "ascii.hpp"
#include "encoding.hpp"
#include "errors.hpp"

namespace mockhub::core {

namespace {

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

void check_key(std::string_view policy, std::string_view which, std::string_view key) {
  const auto bytes = base64_decode(key);
  if (!bytes || bytes->empty()) {
    throw errors::argument_invalid("The " + std::string(which) + " key of shared access policy " + quoted(policy) +
                                   " must be non-empty base64.");
  }
}

}  // namespace

access_policies::access_policies(id_source& ids) : ids_(ids) {
  const std::pair<const char*, permissions> builtins[] = {
      {"iothubowner", permissions::all()},
      {"service", permission::service_connect},
      {"device", permission::device_connect},
      {"registryRead", permission::registry_read},
      {"registryReadWrite", permission::registry_read | permission::registry_write},
  };
  for (const auto& [name, rights] : builtins) add_policy({.name = name, .rights = rights});
}

const shared_access_policy* access_policies::find(std::string_view name) const noexcept {
  const auto it = std::ranges::find(policies_, name, &shared_access_policy::name);
  return it == policies_.end() ? nullptr : &*it;
}

bool access_policies::is_valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  return std::ranges::all_of(name, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '!' || c == '.' ||
           c == '_' || c == '-';
  });
}

const shared_access_policy& access_policies::add_policy(shared_access_policy policy) {
  if (!is_valid_name(policy.name)) {
    throw errors::argument_invalid("Shared access policy name " + quoted(policy.name) +
                                   " is invalid: it must be 1 to 64 letters, digits or the characters ! . _ -");
  }
  for (const auto& p : policies_) {
    if (iequals(p.name, policy.name)) {
      throw errors::argument_invalid("A shared access policy named " + quoted(p.name) + " already exists.");
    }
  }
  if (policy.rights.empty()) {
    throw errors::argument_invalid("Shared access policy " + quoted(policy.name) +
                                   " must grant at least one permission.");
  }
  if (policies_.size() >= max_policies) {
    throw errors::argument_invalid("Cannot add shared access policy " + quoted(policy.name) + ": a hub has at most " +
                                   std::to_string(max_policies) + " shared access policies.");
  }
  if (policy.rights.contains(permission::service_connect) &&
      service_connect_count_excluding(policy.name) >= max_service_connect_policies) {
    throw errors::argument_invalid("Cannot add shared access policy " + quoted(policy.name) + ": at most " +
                                   std::to_string(max_service_connect_policies) +
                                   " shared access policies may grant ServiceConnect.");
  }
  if (policy.primary_key.empty()) policy.primary_key = ids_.symmetric_key();
  if (policy.secondary_key.empty()) policy.secondary_key = ids_.symmetric_key();
  check_key(policy.name, "primary", policy.primary_key);
  check_key(policy.name, "secondary", policy.secondary_key);
  policies_.push_back(std::move(policy));
  changed();
  return policies_.back();
}

const shared_access_policy& access_policies::update_policy(std::string_view name, permissions rights) {
  shared_access_policy& policy = existing(name);
  if (rights.empty()) {
    throw errors::argument_invalid("Shared access policy " + quoted(name) + " must grant at least one permission.");
  }
  if (rights.contains(permission::service_connect) &&
      service_connect_count_excluding(name) >= max_service_connect_policies) {
    throw errors::argument_invalid("Cannot grant ServiceConnect to shared access policy " + quoted(name) +
                                   ": at most " + std::to_string(max_service_connect_policies) +
                                   " shared access policies may grant ServiceConnect.");
  }
  policy.rights = rights;
  changed();
  return policy;
}

const shared_access_policy& access_policies::set_keys(std::string_view name, std::string primary_key,
                                                      std::string secondary_key) {
  shared_access_policy& policy = existing(name);
  check_key(name, "primary", primary_key);
  check_key(name, "secondary", secondary_key);
  policy.primary_key = std::move(primary_key);
  policy.secondary_key = std::move(secondary_key);
  changed();
  return policy;
}

void access_policies::remove_policy(std::string_view name) {
  const shared_access_policy& policy = existing(name);
  policies_.erase(policies_.begin() + (&policy - policies_.data()));
  changed();
}

shared_access_policy& access_policies::existing(std::string_view name) {
  const auto it = std::ranges::find(policies_, name, &shared_access_policy::name);
  if (it == policies_.end()) {
    throw errors::argument_invalid("There is no shared access policy named " + quoted(name) + ".");
  }
  return *it;
}

std::size_t access_policies::service_connect_count_excluding(std::string_view name) const noexcept {
  return static_cast<std::size_t>(std::ranges::count_if(policies_, [&](const shared_access_policy& p) {
    return p.name != name && p.rights.contains(permission::service_connect);
  }));
}

}  // namespace mockhub::core
