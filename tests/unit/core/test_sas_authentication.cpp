#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_hub/core/access_policies.hpp"
#include "mock_hub/core/id_source.hpp"
#include "mock_hub/core/sas_authentication.hpp"
#include "mock_hub/core/sas_token.hpp"
#include "unit/core/check_hub_error.hpp"

using namespace mockhub::core;
using mockhub::testing::check_hub_error;
using namespace std::chrono_literals;

namespace {
// base64 of the ASCII string "0123456789abcdef0123456789abcdef": the device key and the
// iothubowner key the Node SDKs signed the captures with (sdk-captures/README.md).
const std::string capture_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const std::string other_key = "YW5vdGhlciBrZXksIDMyIGJ5dGVzIGxvbmcuLi4uLi4=";
const std::string third_key = "dGhpcmQga2V5LCBhbHNvIDMyIGJ5dGVzIGxvbmcuLi4=";

time_point at(std::int64_t seconds) { return time_point(std::chrono::seconds(seconds)); }

std::vector<nlohmann::json> read_jsonl(const std::string& file) {
  const std::string path = std::string(MOCKHUB_SHARED_DIR) + "/reference/sdk-captures/" + file;
  std::ifstream in(path);
  INFO("reading " << path);
  REQUIRE(in.good());
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

/// A hub's policies with pinned keys, so tests can sign tokens for them.
struct pinned_policies {
  id_source ids{1};
  access_policies policies{ids};
  pinned_policies() {
    for (const auto& p : std::vector<shared_access_policy>(policies.list().begin(), policies.list().end())) {
      policies.set_keys(p.name, capture_key, other_key);
    }
  }
};
}  // namespace

TEST_CASE("Every CONNECT password the Node device SDK sent verifies for dev1 with its key", "[core][auth]") {
  std::set<std::string> passwords;
  for (const auto& packet : read_jsonl("device-mqtt-packets.jsonl")) {
    if (packet.value("cmd", "") != "connect") continue;
    CHECK(packet.at("clientId") == "dev1");
    passwords.insert(packet.at("password").get<std::string>());
  }
  REQUIRE_FALSE(passwords.empty());
  const std::string host = "testhub.azure-devices.net";
  const std::vector<shared_access_policy> no_policies;

  // One run per captured password; the sections below branch each run.
  const std::string password = GENERATE_COPY(from_range(passwords));
  {
    CAPTURE(password);
    const auto se = sas_token::parse(password).expiry_seconds();
    const device_connect_request request{.password = password, .host_name = host, .device_id = "dev1",
                                         .primary_key = capture_key, .secondary_key = ""};

    SECTION("it verifies with the device key, primary or secondary, before se") {
      const auto grant = authenticate_device_connect(request, no_policies, at(se - 1));
      CHECK_FALSE(grant.policy_name.has_value());
      CHECK(grant.expires == at(se));
      auto as_secondary = request;
      as_secondary.primary_key = other_key;
      as_secondary.secondary_key = capture_key;
      CHECK_NOTHROW(authenticate_device_connect(as_secondary, no_policies, at(se) - 1ns));
    }
    SECTION("the host name compares case-insensitively") {
      auto upper = request;
      upper.host_name = "TestHub.Azure-Devices.NET";
      CHECK_NOTHROW(authenticate_device_connect(upper, no_policies, at(se - 60)));
    }
    SECTION("it fails with another key") {
      auto wrong = request;
      wrong.primary_key = other_key;
      wrong.secondary_key = third_key;
      check_hub_error([&] { authenticate_device_connect(wrong, no_policies, at(se - 1)); }, 401003,
                      "does not match the device's primary or secondary key. String to sign: "
                      "'testhub.azure-devices.net%2Fdevices%2Fdev1\\n" + std::to_string(se) + "'");
    }
    SECTION("it fails for another device id, even one it is a string prefix of") {
      const std::string other_id = GENERATE("dev2", "dev10", "dev", "Dev1x");
      auto wrong = request;
      wrong.device_id = other_id;
      check_hub_error([&] { authenticate_device_connect(wrong, no_policies, at(se - 1)); }, 401003,
                      "(sr) does not cover 'testhub.azure-devices.net/devices/" + other_id + "'");
    }
    SECTION("it fails for another hub") {
      auto wrong = request;
      wrong.host_name = "otherhub.azure-devices.net";
      check_hub_error([&] { authenticate_device_connect(wrong, no_policies, at(se - 1)); }, 401003,
                      "does not cover 'otherhub.azure-devices.net/devices/dev1'");
    }
    SECTION("it fails once the clock reaches se") {
      const auto now = GENERATE_COPY(at(se), at(se + 1), at(se + 86400));
      check_hub_error([&] { authenticate_device_connect(request, no_policies, now); }, 401003,
                      "Authentication failed for device 'dev1': the SAS token expired at");
    }
  }
}

TEST_CASE("Every Authorization header the Node service SDK sent verifies for iothubowner", "[core][auth]") {
  std::set<std::string> headers;  // the SDK re-signs every request; many repeat
  std::size_t requests = 0;
  for (const auto& request : read_jsonl("service-requests.jsonl")) {
    const auto& raw = request.at("rawHeaders");
    for (std::size_t i = 0; i + 1 < raw.size(); i += 2) {
      if (raw[i] != "Authorization") continue;
      headers.insert(raw[i + 1].get<std::string>());
      ++requests;
    }
  }
  REQUIRE(requests >= 30);
  REQUIRE(headers.size() >= 5);

  id_source ids(3);
  access_policies policies(ids);
  const std::string host = "localhost";
  // One run per distinct captured header; the sections below branch each run.
  const std::string header = GENERATE_COPY(from_range(headers));
  {
    CAPTURE(header);
    const auto se = sas_token::parse(header).expiry_seconds();

    SECTION("with the policy's primary or secondary key, for every permission iothubowner has") {
      policies.set_keys("iothubowner", capture_key, other_key);
      const auto needed = GENERATE(permission::registry_read, permission::registry_write, permission::service_connect,
                                   permission::device_connect);
      CHECK(authenticate_service_request(header, host, needed, policies.list(), at(se - 1)).name == "iothubowner");
      policies.set_keys("iothubowner", other_key, capture_key);
      CHECK(authenticate_service_request(header, "LOCALHOST", needed, policies.list(), at(se) - 1ns).name ==
            "iothubowner");
    }
    SECTION("not with other keys") {
      policies.set_keys("iothubowner", other_key, third_key);
      check_hub_error(
          [&] { authenticate_service_request(header, host, permission::service_connect, policies.list(), at(se - 1)); },
          401002,
          "does not match the primary or secondary key of shared access policy 'iothubowner'. String to sign: "
          "'localhost\\n" + std::to_string(se) + "'");
    }
    SECTION("not at or after se") {
      policies.set_keys("iothubowner", capture_key, other_key);
      const auto now = GENERATE_COPY(at(se), at(se + 3600));
      check_hub_error(
          [&] { authenticate_service_request(header, host, permission::service_connect, policies.list(), now); },
          401002, "The SAS token expired at");
    }
    SECTION("not for another hub") {
      policies.set_keys("iothubowner", capture_key, other_key);
      check_hub_error(
          [&] {
            authenticate_service_request(header, "testhub.azure-devices.net", permission::service_connect,
                                         policies.list(), at(se - 1));
          },
          401002, "The SAS token's resource 'localhost' (sr) does not cover the hub 'testhub.azure-devices.net'");
    }
  }
}

TEST_CASE("The service entry point says exactly why it refuses", "[core][auth]") {
  pinned_policies hub;
  const auto& list = hub.policies.list();
  const std::string host = "myhub.azure-devices.net";
  const auto now = at(1'800'000'000);
  const auto later = 1'800'000'000 + 3600;
  const auto call = [&](const std::string& header, permission needed) -> const shared_access_policy& {
    return authenticate_service_request(header, host, needed, hub.policies.list(), now);
  };

  SECTION("a policy with the permission is granted, whichever key signed") {
    CHECK(call(sas_token::create(host, capture_key, later, "registryRead"), permission::registry_read).name ==
          "registryRead");
    CHECK(call(sas_token::create(host, other_key, later, "service"), permission::service_connect).name == "service");
    CHECK(&call(sas_token::create(host, other_key, later, "service"), permission::service_connect) == &list[1]);
  }
  SECTION("se == now is refused, se == now + 1 s is accepted") {
    check_hub_error([&] { call(sas_token::create(host, capture_key, now, "service"), permission::service_connect); },
                    401002, "The SAS token expired at 2027-01-15T08:00:00.0000000Z (se=1800000000)");
    CHECK_NOTHROW(call(sas_token::create(host, capture_key, now + 1s, "service"), permission::service_connect));
  }
  SECTION("a long-lived token is accepted") {
    CHECK_NOTHROW(
        call(sas_token::create(host, capture_key, sas_token::max_expiry, "service"), permission::service_connect));
  }
  SECTION("a missing header") {
    check_hub_error([&] { call("", permission::service_connect); }, 401002, "Authorization header missing");
  }
  SECTION("a malformed token") {
    check_hub_error([&] { call("SharedAccessSignature sr=x&se=1", permission::service_connect); }, 401002,
                    "Malformed SAS token: missing field 'sig'");
    check_hub_error([&] { call("Basic dXNlcjpwYXNz", permission::service_connect); }, 401002,
                    "Malformed SAS token: it does not start with 'SharedAccessSignature '");
  }
  SECTION("a device-scoped token (no skn)") {
    check_hub_error(
        [&] { call(sas_token::create(host + "/devices/dev1", capture_key, later), permission::service_connect); },
        401002, "The SAS token has no 'skn': it is a device-scoped token");
  }
  SECTION("an unknown policy") {
    check_hub_error([&] { call(sas_token::create(host, capture_key, later, "ghost"), permission::service_connect); },
                    401002, "Unknown shared access policy 'ghost' (skn)");
    check_hub_error(
        [&] { call(sas_token::create(host, capture_key, later, "IOTHUBOWNER"), permission::service_connect); },
        401002, "Unknown shared access policy 'IOTHUBOWNER'");
  }
  SECTION("a bad signature, showing the string-to-sign") {
    check_hub_error([&] { call(sas_token::create(host, third_key, later, "service"), permission::service_connect); },
                    401002,
                    "does not match the primary or secondary key of shared access policy 'service'. String to sign: "
                    "'myhub.azure-devices.net\\n1800003600'");
  }
  SECTION("an sr that does not cover the hub") {
    const std::string sr = GENERATE("otherhub.azure-devices.net", "myhub.azure-devices.net/devices",
                                    "myhub.azure-devices.net.evil.com");
    check_hub_error([&] { call(sas_token::create(sr, capture_key, later, "service"), permission::service_connect); },
                    401002, "(sr) does not cover the hub 'myhub.azure-devices.net'");
  }
  SECTION("a policy that lacks the permission") {
    auto [policy, needed, phrase] = GENERATE(table<std::string, permission, std::string>({
        {"service", permission::registry_read,
         "Authorization rule 'service' does not allow access for 'RegistryRead' (it grants ServiceConnect)"},
        {"registryRead", permission::registry_write,
         "Authorization rule 'registryRead' does not allow access for 'RegistryWrite'"},
        {"registryReadWrite", permission::service_connect,
         "does not allow access for 'ServiceConnect' (it grants RegistryRead, RegistryWrite)"},
        {"device", permission::service_connect, "Authorization rule 'device' does not allow access"},
    }));
    check_hub_error([&] { call(sas_token::create(host, capture_key, later, policy), needed); }, 401002, phrase);
  }
  SECTION("the checks run in order: signature before expiry, expiry before scope") {
    check_hub_error([&] { call(sas_token::create("elsewhere", third_key, 5, "service"), permission::registry_read); },
                    401002, "does not match");
    check_hub_error([&] { call(sas_token::create("elsewhere", capture_key, 5, "service"), permission::registry_read); },
                    401002, "expired");
    check_hub_error(
        [&] { call(sas_token::create("elsewhere", capture_key, later, "service"), permission::registry_read); }, 401002,
        "does not cover the hub");
  }
}

TEST_CASE("The device entry point accepts device and policy tokens and says why it refuses", "[core][auth]") {
  pinned_policies hub;
  const std::string host = "myhub.azure-devices.net";
  const std::string device_key = third_key;
  const auto now = at(1'800'000'000);
  const std::int64_t later = 1'800'000'000 + 3600;
  const auto connect = [&](const std::string& password, std::string_view device_id = "dev1") {
    return authenticate_device_connect({.password = password, .host_name = host, .device_id = device_id,
                                        .primary_key = device_key, .secondary_key = ""},
                                       hub.policies.list(), now);
  };

  SECTION("a device token signed with the device key") {
    const auto grant = connect(sas_token::create(host + "/devices/dev1", device_key, later));
    CHECK_FALSE(grant.policy_name.has_value());
    CHECK(grant.expires == at(later));
  }
  SECTION("a device token whose sr is broader than the device still covers it") {
    CHECK_NOTHROW(connect(sas_token::create(host + "/devices", device_key, later)));
    CHECK_NOTHROW(connect(sas_token::create(host, device_key, later)));
  }
  SECTION("se == now is refused, se == now + 1 s is accepted") {
    check_hub_error([&] { connect(sas_token::create(host + "/devices/dev1", device_key, now)); }, 401003,
                    "the SAS token expired at 2027-01-15T08:00:00.0000000Z");
    CHECK_NOTHROW(connect(sas_token::create(host + "/devices/dev1", device_key, now + 1s)));
  }
  SECTION("a policy token from a policy with DeviceConnect, for any device, with either key") {
    const auto policy = GENERATE(as<std::string>{}, "device", "iothubowner");
    const auto key = GENERATE(capture_key, other_key);
    const auto grant = connect(sas_token::create(host + "/devices/dev7", key, later, policy), "dev7");
    CHECK(grant.policy_name == policy);
    CHECK_NOTHROW(connect(sas_token::create(host + "/devices", key, later, policy), "dev8"));
  }
  SECTION("a malformed token") {
    check_hub_error([&] { connect("SharedAccessSignature sr=x&sig=YQ%3D%3D&se=-1"); }, 401003,
                    "Authentication failed for device 'dev1': Malformed SAS token: field 'se' is negative");
    check_hub_error([&] { connect(""); }, 401003, "Malformed SAS token: the token is empty");
  }
  SECTION("a device token signed with another key, or for a device with no usable key") {
    check_hub_error([&] { connect(sas_token::create(host + "/devices/dev1", capture_key, later)); }, 401003,
                    "does not match the device's primary or secondary key. String to sign: "
                    "'myhub.azure-devices.net%2Fdevices%2Fdev1\\n1800003600'");
    const std::string token = sas_token::create(host + "/devices/dev1", capture_key, later);
    const auto bad_keys = GENERATE(as<std::string>{}, "", "not base64!");
    check_hub_error(
        [&] {
          authenticate_device_connect({.password = token, .host_name = host, .device_id = "dev1",
                                       .primary_key = bad_keys, .secondary_key = bad_keys},
                                      hub.policies.list(), now);
        },
        401003, "does not match the device's primary or secondary key");
  }
  SECTION("a device token for another device, even a string prefix of it") {
    const auto other = GENERATE(as<std::string>{}, "dev10", "dev2", "de");
    CAPTURE(other);
    // Signed with dev1's key but scoped to another identity: the segment rule refuses it.
    check_hub_error([&] { connect(sas_token::create(host + "/devices/" + other, device_key, later)); }, 401003,
                    "(sr) does not cover 'myhub.azure-devices.net/devices/dev1'");
  }
  SECTION("a device token scoped to a module does not cover the device") {
    check_hub_error([&] { connect(sas_token::create(host + "/devices/dev1/modules/m1", device_key, later)); }, 401003,
                    "does not cover");
  }
  SECTION("a device token for another hub") {
    check_hub_error([&] { connect(sas_token::create("other.azure-devices.net/devices/dev1", device_key, later)); },
                    401003, "'other.azure-devices.net/devices/dev1' (sr) does not cover");
  }
  SECTION("a policy token from an unknown policy") {
    check_hub_error([&] { connect(sas_token::create(host + "/devices/dev1", capture_key, later, "ghost")); }, 401003,
                    "unknown shared access policy 'ghost' (skn)");
  }
  SECTION("a policy token from a policy without DeviceConnect") {
    const auto policy = GENERATE(as<std::string>{}, "service", "registryRead", "registryReadWrite");
    check_hub_error([&] { connect(sas_token::create(host + "/devices/dev1", capture_key, later, policy)); }, 401003,
                    "Authorization rule '" + policy + "' does not allow access for 'DeviceConnect'");
  }
  SECTION("a policy token signed with neither of the policy's keys") {
    check_hub_error([&] { connect(sas_token::create(host + "/devices/dev1", device_key, later, "device")); }, 401003,
                    "does not match the primary or secondary key of shared access policy 'device'");
  }
  SECTION("a policy token scoped to another device") {
    check_hub_error([&] { connect(sas_token::create(host + "/devices/dev2", capture_key, later, "device")); }, 401003,
                    "'myhub.azure-devices.net/devices/dev2' (sr) does not cover "
                    "'myhub.azure-devices.net/devices/dev1'");
  }
  SECTION("a policy that was removed no longer authenticates") {
    hub.policies.remove_policy("device");
    check_hub_error([&] { connect(sas_token::create(host + "/devices/dev1", capture_key, later, "device")); }, 401003,
                    "unknown shared access policy 'device'");
  }
}
