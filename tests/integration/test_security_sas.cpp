// Security: SAS tokens that try to get in, on both transports of one running hub. Every forged,
// expired, misscoped or under-privileged token is refused with the exact code: CONNACK 5 on MQTT
// (with the reason in the broker's log), 401 401002 with the exact message on REST. Rolling a
// device's keys, disabling or deleting it ends its live connection, and the old key stays out.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_hub/core/sas_token.hpp"
#include "mock_hub/core/time_format.hpp"
#include "security_hub.hpp"

using namespace mockhub;
using namespace mockhub::test;
using nlohmann::json;

namespace {

/// The token with one field removed (`sr`, `sig`, `se` or `skn`).
std::string without_field(const std::string& token, const std::string& field) {
  const std::string prefix = "SharedAccessSignature ";
  std::string fields = token.substr(prefix.size());
  std::string out;
  std::size_t pos = 0;
  while (pos <= fields.size()) {
    const std::size_t end = std::min(fields.find('&', pos), fields.size());
    const std::string pair = fields.substr(pos, end - pos);
    if (!pair.starts_with(field + "=")) out += (out.empty() ? "" : "&") + pair;
    pos = end + 1;
  }
  return prefix + out;
}

/// The token with the first character of its signature changed (still base64).
std::string tampered(std::string token) {
  const auto at = token.find("sig=") + 4;
  token[at] = token[at] == 'A' ? 'B' : 'A';
  return token;
}

/// The token with `se` replaced (the signature no longer matches, which is checked later).
std::string with_expiry(std::string token, const std::string& se) {
  const auto at = token.find("se=") + 3;
  const auto end = std::min(token.find('&', at), token.size());
  return token.replace(at, end - at, se);
}

std::string se_of(const std::string& token) { return std::to_string(core::sas_token::parse(token).expiry_seconds()); }

}  // namespace

TEST_CASE("Security: every bad SAS token gets CONNACK 5 on MQTT, with its reason in the broker log",
          "[integration][security][sas]") {
  security_hub s;
  const std::string k1 = s.create_device("dev1");
  const std::string k2 = s.create_device("dev2");
  const std::string owner = s.policy_key("iothubowner");
  const std::string host = security_host;
  const auto now = s.hub.now();
  const auto hour = std::chrono::hours(1);
  const std::string good = s.device_token("dev1", k1);

  struct attempt {
    std::string what;
    std::optional<std::string> password;
    std::string reason;  // in the broker's log line
  };
  const std::vector<attempt> attempts = {
      {"a tampered signature", tampered(good), "the SAS token signature does not match the device's primary or secondary key"},
      {"a token signed with a key the hub does not know", s.device_token("dev1", stranger_key),
       "the SAS token signature does not match the device's primary or secondary key"},
      {"an expired token (se == the hub's time)", core::sas_token::create(host + "/devices/dev1", k1, now),
       "the SAS token expired at " + core::format_time(now)},
      {"a token for another hub", core::sas_token::create("other-hub.azure-devices.net/devices/dev1", k1, now + hour),
       "does not cover 'security-hub.azure-devices.net/devices/dev1'"},
      {"another device's token, signed with its key", s.device_token("dev2", k2),
       "the SAS token signature does not match the device's primary or secondary key"},
      {"another device's scope signed with this device's key", s.device_token("dev2", k1),
       "(sr) does not cover 'security-hub.azure-devices.net/devices/dev1'"},
      {"a module's scope", core::sas_token::create(host + "/devices/dev1/modules/m1", k1, now + hour),
       "(sr) does not cover 'security-hub.azure-devices.net/devices/dev1'"},
      {"a policy without DeviceConnect (service)", s.device_token("dev1", s.policy_key("service"), "service"),
       "Authorization rule 'service' does not allow access for 'DeviceConnect'"},
      {"an unknown policy", s.device_token("dev1", owner, "nobody"), "unknown shared access policy 'nobody' (skn)"},
      {"a policy-signed token without skn", s.device_token("dev1", owner),
       "the SAS token signature does not match the device's primary or secondary key"},
      {"no sig", without_field(good, "sig"), "Malformed SAS token: missing field 'sig'"},
      {"no se", without_field(good, "se"), "Malformed SAS token: missing field 'se'"},
      {"no sr", without_field(good, "sr"), "Malformed SAS token: missing field 'sr'"},
      {"an se beyond 9999-12-31T23:59:59Z", with_expiry(good, "253402300800"),
       "field 'se' lies beyond 9999-12-31T23:59:59Z: '253402300800'"},
      {"a password that is no SAS token", std::string("hunter2"), "it does not start with 'SharedAccessSignature '"},
      {"no password", std::nullopt, "no password (SAS token)"},
  };
  for (const auto& a : attempts) {
    INFO(a.what);
    CHECK(s.connect_code("dev1", a.password) == 5);
    CHECK_THAT(s.hub.broker().log_tail(64 * 1024),
               Catch::Contains("mockhub: refused CONNECT of client 'dev1' from 127.0.0.1: ") && Catch::Contains(a.reason));
  }
  SECTION("a valid token under another client id") {
    plugin_mqtt_client impostor("dev2");
    CHECK(impostor.connect(s.hub.mqtt_port(), security_hub::username("dev1"), good) == 5);
    CHECK_THAT(s.hub.broker().log_tail(64 * 1024), Catch::Contains("the client id must be 'dev1' (from the username)"));
  }
  SECTION("none of them reached the hub; the good ones are admitted") {
    CHECK_FALSE(s.connected("dev1"));
    CHECK(s.hub.call([](core::hub& h) { return h.registry().get_identity("dev1").connection; }) ==
          core::connection_state::disconnected);
    CHECK(s.connect_code("dev1", good) == 0);
    CHECK(s.connect_code("dev1", s.device_token("dev1", s.secondary_key("dev1"))) == 0);
    CHECK(s.connect_code("dev1", s.device_token("dev1", owner, "iothubowner")) == 0);  // DeviceConnect policy
    // A token far in the future: accepted up to the last second of 9999 (docs/fidelity.md).
    CHECK(s.connect_code("dev1", core::sas_token::create(host + "/devices/dev1", k1, core::sas_token::max_expiry)) == 0);
  }
}

TEST_CASE("Security: every bad SAS token gets 401 401002 on REST, with the exact message", "[integration][security][sas]") {
  security_hub s;
  const std::string k1 = s.create_device("dev1");
  const std::string owner = s.policy_key("iothubowner");
  const std::string host = security_host;
  const auto now = s.hub.now();
  const auto hour = std::chrono::hours(1);
  const std::string good = s.service_token("iothubowner");
  const std::string shown_sign = "'" + host + "\\n" + se_of(good) + "'";
  auto rest = s.rest();

  struct attempt {
    std::string what;
    std::string authorization;
    std::string message;
  };
  const std::vector<attempt> attempts = {
      {"no Authorization header", "", "Authorization header missing."},
      {"a tampered signature", tampered(good),
       "The SAS token signature does not match the primary or secondary key of shared access policy 'iothubowner'. "
       "String to sign: " + shown_sign + "."},
      {"a token signed with a key the hub does not know", core::sas_token::create(host, stranger_key, now + hour, "iothubowner"),
       "The SAS token signature does not match the primary or secondary key of shared access policy 'iothubowner'. "
       "String to sign: " + shown_sign + "."},
      {"a device's key with a policy name", core::sas_token::create(host, k1, now + hour, "iothubowner"),
       "The SAS token signature does not match the primary or secondary key of shared access policy 'iothubowner'. "
       "String to sign: " + shown_sign + "."},
      {"an expired token (se == the hub's time)", core::sas_token::create(host, owner, now, "iothubowner"),
       "The SAS token expired at " + core::format_time(now) + " (se=" + se_of(core::sas_token::create(host, owner, now)) +
           "), the hub time is " + core::format_time(now) + "."},
      {"a token for another hub", core::sas_token::create("other-hub.azure-devices.net", owner, now + hour, "iothubowner"),
       "The SAS token's resource 'other-hub.azure-devices.net' (sr) does not cover the hub '" + host + "'."},
      {"a device token (for the device API, not the service API)", s.device_token("dev1", k1),
       "The SAS token has no 'skn': it is a device-scoped token, and the service API needs a token signed with a shared "
       "access policy key."},
      {"no skn", without_field(good, "skn"),
       "The SAS token has no 'skn': it is a device-scoped token, and the service API needs a token signed with a shared "
       "access policy key."},
      {"no sig", without_field(good, "sig"), "Malformed SAS token: missing field 'sig'."},
      {"no se", without_field(good, "se"), "Malformed SAS token: missing field 'se'."},
      {"no sr", without_field(good, "sr"), "Malformed SAS token: missing field 'sr'."},
      {"an se beyond 9999-12-31T23:59:59Z", with_expiry(good, "253402300800"),
       "Malformed SAS token: field 'se' lies beyond 9999-12-31T23:59:59Z: '253402300800'."},
      {"an unknown policy", core::sas_token::create(host, owner, now + hour, "nobody"), "Unknown shared access policy 'nobody' (skn)."},
      {"not a SAS token", "Bearer abc", "Malformed SAS token: it does not start with 'SharedAccessSignature '."},
  };
  for (const auto& a : attempts) {
    INFO(a.what);
    check_unauthorized(rest.Get(security_hub::api("/devices/dev1"), security_hub::auth(a.authorization)), a.message);
  }

  SECTION("a policy lacking the permission") {
    const std::string ct = "application/json; charset=utf-8";
    check_unauthorized(rest.Put(security_hub::api("/devices/dev9"), security_hub::auth(s.service_token("registryRead")),
                                R"({"deviceId":"dev9"})", ct),
                       "Authorization rule 'registryRead' does not allow access for 'RegistryWrite' (it grants RegistryRead).");
    check_unauthorized(rest.Post(security_hub::api("/twins/dev1/methods"), security_hub::auth(s.service_token("registryReadWrite")),
                                 R"({"methodName":"ping","responseTimeoutInSeconds":5})", ct),
                       "Authorization rule 'registryReadWrite' does not allow access for 'ServiceConnect' (it grants "
                       "RegistryRead, RegistryWrite).");
    check_unauthorized(rest.Delete(security_hub::api("/devices/dev1"), security_hub::auth(s.service_token("service"))),
                       "Authorization rule 'service' does not allow access for 'RegistryWrite' (it grants ServiceConnect).");
    check_unauthorized(rest.Get(security_hub::api("/devices/dev1"), security_hub::auth(s.service_token("device"))),
                       "Authorization rule 'device' does not allow access for 'RegistryRead' (it grants DeviceConnect).");
    // Nothing was written.
    CHECK_FALSE(s.hub.call([](core::hub& h) { return h.registry().find("dev9") != nullptr; }));
    CHECK(s.hub.call([](core::hub& h) { return h.registry().find("dev1") != nullptr; }));
  }
  SECTION("the good ones are served, a token far in the future too") {
    CHECK(rest.Get(security_hub::api("/devices/dev1"), security_hub::auth(good))->status == 200);
    const auto forever = core::sas_token::create(host, owner, core::sas_token::max_expiry, "iothubowner");
    CHECK(rest.Get(security_hub::api("/devices/dev1"), security_hub::auth(forever))->status == 200);
  }
}

TEST_CASE("Security: rolling a device's key over REST drops its live connection, the old key is refused and the new one admitted",
          "[integration][security][sas]") {
  security_hub s;
  const std::string old_primary = s.create_device("dev1");
  const std::string secondary = s.secondary_key("dev1");
  const std::string bystander_key = s.create_device("dev2");
  const bool persistent = GENERATE(false, true);
  INFO((persistent ? "persistent session" : "clean session"));
  auto dev1 = s.device("dev1", s.device_token("dev1", old_primary), !persistent);
  auto dev2 = s.device("dev2", s.device_token("dev2", bystander_key));
  auto rest = s.rest();
  const auto admin = security_hub::auth(s.service_token("iothubowner"));
  const std::string ct = "application/json; charset=utf-8";
  const std::string new_primary = "bmV3IHByaW1hcnkga2V5LCAzMiBieXRlcyBsb25nLi4=";

  // What `az iot hub device-identity renew-key` does: GET, then PUT with the new key and If-Match.
  json device = json::parse(rest.Get(security_hub::api("/devices/dev1"), admin)->body);
  device["authentication"]["symmetricKey"]["primaryKey"] = new_primary;
  auto headers = admin;
  headers.emplace("If-Match", "*");
  const auto put = rest.Put(security_hub::api("/devices/dev1"), headers, device.dump(), ct);
  REQUIRE(put);
  REQUIRE(put->status == 200);

  CHECK(dev1->wait_disconnected());  // the device sees it
  CHECK(s.wait_disconnected_at_hub("dev1"));
  CHECK(s.connect_code("dev1", s.device_token("dev1", old_primary)) == 5);
  CHECK(s.connect_code("dev1", s.device_token("dev1", new_primary)) == 0);
  CHECK(s.connect_code("dev1", s.device_token("dev1", secondary)) == 0);  // the unchanged key still works
  // The other device was never touched.
  CHECK(dev2->connected());
  s.method_round_trip(*dev2, "dev2");
  auto again = s.device("dev1", s.device_token("dev1", new_primary), !persistent);
  s.method_round_trip(*again, "dev1");
}

TEST_CASE("Security: disabling or deleting a device over REST drops its live connection and keeps it out",
          "[integration][security][sas]") {
  security_hub s;
  const std::string key = s.create_device("dev1");
  const std::string bystander_key = s.create_device("dev2");
  auto dev1 = s.device("dev1", s.device_token("dev1", key), /*clean_session=*/false);
  auto dev2 = s.device("dev2", s.device_token("dev2", bystander_key));
  auto rest = s.rest();
  const auto admin = security_hub::auth(s.service_token("iothubowner"));
  auto update = admin;
  update.emplace("If-Match", "*");
  const std::string ct = "application/json; charset=utf-8";

  SECTION("disable, then enable again") {
    json device = json::parse(rest.Get(security_hub::api("/devices/dev1"), admin)->body);
    device["status"] = "disabled";
    REQUIRE(rest.Put(security_hub::api("/devices/dev1"), update, device.dump(), ct)->status == 200);
    CHECK(dev1->wait_disconnected());
    CHECK(s.wait_disconnected_at_hub("dev1"));
    CHECK(s.connect_code("dev1", s.device_token("dev1", key)) == 5);
    CHECK_THAT(s.hub.broker().log_tail(), Catch::Contains("refused CONNECT of client 'dev1' from 127.0.0.1: the identity is disabled"));
    device["status"] = "enabled";
    REQUIRE(rest.Put(security_hub::api("/devices/dev1"), update, device.dump(), ct)->status == 200);
    CHECK(s.connect_code("dev1", s.device_token("dev1", key)) == 0);
  }
  SECTION("delete") {
    REQUIRE(rest.Delete(security_hub::api("/devices/dev1"), admin)->status == 204);
    CHECK(dev1->wait_disconnected());
    CHECK(s.connect_code("dev1", s.device_token("dev1", key)) == 5);
    CHECK_THAT(s.hub.broker().log_tail(), Catch::Contains("refused CONNECT of client 'dev1' from 127.0.0.1: no such identity"));
  }
  CHECK(dev2->connected());
  s.method_round_trip(*dev2, "dev2");
}
