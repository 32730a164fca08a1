#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "mock_hub/core/access_policies.hpp"
#include "mock_hub/core/encoding.hpp"
#include "mock_hub/core/id_source.hpp"
#include "unit/core/check_hub_error.hpp"

using namespace mockhub::core;
using mockhub::testing::check_hub_error;

namespace {
constexpr std::string_view capture_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
constexpr std::string_view other_key = "YW5vdGhlciBrZXksIDMyIGJ5dGVzIGxvbmcuLi4uLi4=";

std::vector<std::string> names(const access_policies& policies) {
  std::vector<std::string> out;
  for (const auto& p : policies.list()) out.push_back(p.name);
  return out;
}
}  // namespace

TEST_CASE("Permissions form a small set with wire names", "[core][auth]") {
  const permissions rw = permission::registry_read | permission::registry_write;
  CHECK(rw.contains(permission::registry_read));
  CHECK(rw.contains(permission::registry_write));
  CHECK_FALSE(rw.contains(permission::service_connect));
  CHECK_FALSE(rw.empty());
  CHECK(permissions{}.empty());
  CHECK(permissions::all() == (rw | permission::service_connect | permission::device_connect));
  CHECK(to_string(permission::device_connect) == "DeviceConnect");
  CHECK(to_string(permissions::all()) == "RegistryRead, RegistryWrite, ServiceConnect, DeviceConnect");
  CHECK(to_string(permission::device_connect | permission::registry_read) == "RegistryRead, DeviceConnect");
  CHECK(to_string(permissions{}).empty());

  SECTION("parsing accepts the resource provider's list and refuses unknown names") {
    CHECK(parse_permissions("RegistryRead, RegistryWrite, ServiceConnect, DeviceConnect") == permissions::all());
    CHECK(parse_permissions("serviceconnect deviceconnect") ==
          (permission::service_connect | permission::device_connect));
    CHECK(parse_permissions("RegistryWrite") == permissions(permission::registry_write));
    CHECK_FALSE(parse_permissions("").has_value());
    CHECK_FALSE(parse_permissions(" , ").has_value());
    CHECK_FALSE(parse_permissions("RegistryRead, Owner").has_value());
  }
}

TEST_CASE("A new hub has the five built-in policies with keys from the id source", "[core][auth]") {
  id_source ids(7);
  const access_policies policies(ids);
  CHECK(names(policies) ==
        std::vector<std::string>{"iothubowner", "service", "device", "registryRead", "registryReadWrite"});

  auto [name, rights] = GENERATE(table<std::string, permissions>({
      {"iothubowner", permissions::all()},
      {"service", permission::service_connect},
      {"device", permission::device_connect},
      {"registryRead", permission::registry_read},
      {"registryReadWrite", permission::registry_read | permission::registry_write},
  }));
  CAPTURE(name);
  const shared_access_policy* p = policies.find(name);
  REQUIRE(p != nullptr);
  CHECK(p->rights == rights);
  CHECK(p->primary_key.size() == 44);
  CHECK(base64_decode(p->primary_key).has_value());
  CHECK(base64_decode(p->secondary_key).has_value());
  CHECK(p->primary_key != p->secondary_key);

  SECTION("the same seed gives the same keys") {
    id_source again(7);
    const access_policies replay(again);
    CHECK(replay.find(name)->primary_key == p->primary_key);
    CHECK(replay.find(name)->secondary_key == p->secondary_key);
  }
}

TEST_CASE("Policies are added, updated, re-keyed and removed", "[core][auth]") {
  id_source ids(1);
  access_policies policies(ids);

  SECTION("a policy added without keys gets generated ones; pinned keys are kept") {
    const auto& gen = policies.add_policy({.name = "gateway", .rights = permission::device_connect});
    CHECK(base64_decode(gen.primary_key).has_value());
    CHECK(gen.primary_key.size() == 44);
    const auto& pinned = policies.add_policy({.name = "ops-1.a_b!",
                                              .primary_key = std::string(capture_key),
                                              .secondary_key = std::string(other_key),
                                              .rights = permission::registry_read});
    CHECK(pinned.primary_key == capture_key);
    CHECK(pinned.secondary_key == other_key);
    CHECK(policies.size() == 7);
    CHECK(policies.find("ops-1.a_b!") != nullptr);
  }
  SECTION("keys are settable") {
    policies.set_keys("iothubowner", std::string(capture_key), std::string(other_key));
    CHECK(policies.find("iothubowner")->primary_key == capture_key);
    CHECK(policies.find("iothubowner")->secondary_key == other_key);
    check_hub_error([&] { policies.set_keys("iothubowner", "not base64!", std::string(other_key)); }, 400004,
                    "primary key of shared access policy 'iothubowner' must be non-empty base64");
    check_hub_error([&] { policies.set_keys("iothubowner", std::string(capture_key), ""); }, 400004,
                    "secondary key");
    check_hub_error([&] { policies.set_keys("nobody", std::string(capture_key), std::string(other_key)); }, 400004,
                    "no shared access policy named 'nobody'");
    CHECK(policies.find("iothubowner")->primary_key == capture_key);  // unchanged by the refusals
  }
  SECTION("rights are updatable") {
    policies.update_policy("device", permission::device_connect | permission::registry_read);
    CHECK(policies.find("device")->rights == (permission::device_connect | permission::registry_read));
    check_hub_error([&] { policies.update_policy("device", permissions{}); }, 400004,
                    "must grant at least one permission");
    check_hub_error([&] { policies.update_policy("nobody", permission::device_connect); }, 400004,
                    "no shared access policy named 'nobody'");
  }
  SECTION("any policy can be removed, built-ins included") {
    policies.remove_policy("iothubowner");
    policies.remove_policy("registryRead");
    CHECK(names(policies) == std::vector<std::string>{"service", "device", "registryReadWrite"});
    CHECK(policies.find("iothubowner") == nullptr);
    check_hub_error([&] { policies.remove_policy("iothubowner"); }, 400004, "no shared access policy named");
  }
  SECTION("lookup is exact; a name differing only in case is a duplicate") {
    CHECK(policies.find("IotHubOwner") == nullptr);
    check_hub_error([&] { policies.add_policy({.name = "IOTHUBOWNER", .rights = permission::registry_read}); },
                    400004, "A shared access policy named 'iothubowner' already exists");
  }
  SECTION("a policy must grant something and carry base64 keys") {
    check_hub_error([&] { policies.add_policy({.name = "empty"}); }, 400004, "must grant at least one permission");
    check_hub_error(
        [&] { policies.add_policy({.name = "k", .primary_key = "%%", .rights = permission::registry_read}); }, 400004,
        "primary key of shared access policy 'k' must be non-empty base64");
    CHECK(policies.find("k") == nullptr);
  }
}

TEST_CASE("Policy names follow the naming rule", "[core][auth]") {
  auto [name, valid] = GENERATE(table<std::string, bool>({
      {"a", true},
      {"ServiceAndRegistry", true},
      {"my-policy_1.v2!", true},
      {std::string(64, 'x'), true},
      {"", false},
      {std::string(65, 'x'), false},
      {"with space", false},
      {"slash/name", false},
      {"at@sign", false},
      {"semi;colon", false},
      {"amp&", false},
      {"eq=", false},
      {"p\xc3\xa9", false},
  }));
  CAPTURE(name);
  CHECK(access_policies::is_valid_name(name) == valid);
  id_source ids(1);
  access_policies policies(ids);
  if (valid) {
    CHECK(policies.add_policy({.name = name, .rights = permission::registry_read}).name == name);
  } else {
    check_hub_error([&] { policies.add_policy({.name = name, .rights = permission::registry_read}); }, 400004,
                    "is invalid: it must be 1 to 64 letters, digits or the characters ! . _ -");
  }
}

TEST_CASE("A hub holds at most 16 policies, at most 10 of them granting ServiceConnect", "[core][auth]") {
  id_source ids(1);
  access_policies policies(ids);  // 5 built-ins, 2 of them (iothubowner, service) with ServiceConnect

  SECTION("the 17th policy is refused") {
    for (int i = 0; i < 11; ++i) {
      policies.add_policy({.name = "p" + std::to_string(i), .rights = permission::registry_read});
    }
    CHECK(policies.size() == access_policies::max_policies);
    check_hub_error([&] { policies.add_policy({.name = "p11", .rights = permission::registry_read}); }, 400004,
                    "a hub has at most 16 shared access policies");
    SECTION("removing one makes room again") {
      policies.remove_policy("p0");
      CHECK(policies.add_policy({.name = "p11", .rights = permission::registry_read}).name == "p11");
    }
  }
  SECTION("the 11th ServiceConnect policy is refused, by add or by update") {
    for (int i = 0; i < 8; ++i) {
      policies.add_policy({.name = "svc" + std::to_string(i), .rights = permission::service_connect});
    }
    check_hub_error([&] { policies.add_policy({.name = "svc8", .rights = permission::service_connect}); }, 400004,
                    "at most 10 shared access policies may grant ServiceConnect");
    check_hub_error([&] { policies.update_policy("device", permission::service_connect); }, 400004,
                    "at most 10 shared access policies may grant ServiceConnect");
    CHECK(policies.find("device")->rights == permissions(permission::device_connect));
    // A policy that already grants ServiceConnect may keep it when its rights change.
    CHECK(policies.update_policy("svc0", permission::service_connect | permission::registry_read).rights ==
          (permission::service_connect | permission::registry_read));
    // Other rights are not limited.
    CHECK(policies.add_policy({.name = "reader", .rights = permission::registry_read}).name == "reader");
  }
}
