// Authentication of every request: the SAS `Authorization` header, checked on the executor
// against the hub's policies, host name and clock; 401002 IotHubUnauthorizedAccess on refusal.
#include "rest_fixture.hpp"

#include "mock_hub/core/sas_token.hpp"

using mockhub::core::sas_token;
using mockhub::test::body_of;
using mockhub::test::check_error;
using mockhub::test::rest_fixture;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {
const std::string other_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

httplib::Result get_with(rest_fixture& hub, const std::string& path, const std::string& authorization) {
  httplib::Headers h;
  if (!authorization.empty()) h.emplace("Authorization", authorization);
  return hub.client().Get(rest_fixture::with_api(path), h);
}
}  // namespace

TEST_CASE("Auth refusals: missing header, malformed, bad signature, expired, wrong host, device token", "[rest][auth]") {
  rest_fixture hub;
  hub.add_device("dev1");
  const auto owner_key = hub.on_hub([](mockhub::core::hub& h) { return h.policies().find("iothubowner")->primary_key; });
  const auto device_key = hub.on_hub([](mockhub::core::hub& h) { return h.registry().get_identity("dev1").primary_key; });
  const auto in_an_hour = hub.now() + 1h;

  SECTION("no Authorization header") {
    check_error(get_with(hub, "/devices/dev1", ""), 401, "IotHubUnauthorizedAccess", 401002, "Authorization header missing");
  }
  SECTION("not a SAS token") {
    check_error(get_with(hub, "/devices/dev1", "Bearer abc"), 401, "IotHubUnauthorizedAccess", 401002, "Malformed");
  }
  SECTION("signed with another key") {
    check_error(get_with(hub, "/devices/dev1", sas_token::create(hub.host_name(), other_key, in_an_hour, "iothubowner")), 401,
                "IotHubUnauthorizedAccess", 401002);
  }
  SECTION("expired once the hub's clock reaches se") {
    const auto token = sas_token::create(hub.host_name(), owner_key, hub.now() + 10s, "iothubowner");
    CHECK(get_with(hub, "/devices/dev1", token)->status == 200);
    hub.advance(10s);
    check_error(get_with(hub, "/devices/dev1", token), 401, "IotHubUnauthorizedAccess", 401002, "expired");
  }
  SECTION("scoped to another hub") {
    check_error(get_with(hub, "/devices/dev1", sas_token::create("other.azure-devices.net", owner_key, in_an_hour, "iothubowner")),
                401, "IotHubUnauthorizedAccess", 401002);
  }
  SECTION("a device token cannot call the service API") {
    check_error(get_with(hub, "/devices/dev1", sas_token::create(hub.host_name() + "/devices/dev1", device_key, in_an_hour)),
                401, "IotHubUnauthorizedAccess", 401002);
  }
  SECTION("an unknown policy") {
    check_error(get_with(hub, "/devices/dev1", sas_token::create(hub.host_name(), owner_key, in_an_hour, "nobody")), 401,
                "IotHubUnauthorizedAccess", 401002);
  }
}

TEST_CASE("Each route needs its permission: registryRead, registryReadWrite, service, device", "[rest][auth]") {
  rest_fixture hub;
  hub.add_device("dev1");
  const auto as = [&](const std::string& policy) { return rest_fixture::headers{{"Authorization", hub.token(policy)}}; };
  const auto api = [](const std::string& p) { return rest_fixture::with_api(p); };
  const std::string patch = R"({"tags":{"a":1}})";
  const std::string ct = "application/json; charset=utf-8";

  SECTION("registryRead reads the registry and statistics, nothing else") {
    CHECK(hub.client().Get(api("/devices/dev1"), as("registryRead"))->status == 200);
    CHECK(hub.client().Get(api("/devices"), as("registryRead"))->status == 200);
    CHECK(hub.client().Get(api("/statistics/devices"), as("registryRead"))->status == 200);
    CHECK(hub.client().Get(api("/statistics/service"), as("registryRead"))->status == 200);
    check_error(hub.client().Patch(api("/twins/dev1"), as("registryRead"), patch, ct), 401, "IotHubUnauthorizedAccess",
                401002, "ServiceConnect");
    check_error(hub.client().Get(api("/twins/dev1"), as("registryRead")), 401, "IotHubUnauthorizedAccess", 401002);
    check_error(hub.client().Delete(api("/devices/dev1"), as("registryRead")), 401, "IotHubUnauthorizedAccess", 401002,
                "RegistryWrite");
    check_error(hub.client().Get(api("/jobs/v2/query"), as("registryRead")), 401, "IotHubUnauthorizedAccess", 401002);
  }
  SECTION("registryReadWrite writes the registry") {
    CHECK(hub.client().Put(api("/devices/dev2"), as("registryReadWrite"), R"({"deviceId":"dev2"})", ct)->status == 200);
    CHECK(hub.client().Delete(api("/devices/dev2"), as("registryReadWrite"))->status == 204);
    check_error(hub.client().Post(api("/devices/query"), as("registryReadWrite"), R"({"query":"SELECT * FROM devices"})", ct),
                401, "IotHubUnauthorizedAccess", 401002);
  }
  SECTION("service does twins, queries, methods, jobs and C2D, not the registry") {
    CHECK(hub.client().Get(api("/twins/dev1"), as("service"))->status == 200);
    CHECK(hub.client().Patch(api("/twins/dev1"), as("service"), patch, ct)->status == 200);
    CHECK(hub.client().Post(api("/devices/query"), as("service"), R"({"query":"SELECT * FROM devices"})", ct)->status == 200);
    CHECK(hub.client().Get(api("/jobs/v2/query"), as("service"))->status == 200);
    CHECK(hub.client().Delete(api("/devices/dev1/commands"), as("service"))->status == 200);
    check_error(hub.client().Get(api("/devices/dev1"), as("service")), 401, "IotHubUnauthorizedAccess", 401002, "RegistryRead");
  }
  SECTION("device (DeviceConnect only) calls nothing on the service API") {
    check_error(hub.client().Get(api("/twins/dev1"), as("device")), 401, "IotHubUnauthorizedAccess", 401002);
    check_error(hub.client().Get(api("/devices/dev1"), as("device")), 401, "IotHubUnauthorizedAccess", 401002);
  }
}
