#include <catch2/catch.hpp>

#include <mockhub/device/credentials.hpp>

#include "capture.hpp"

using namespace mockhub::device;

namespace {
constexpr const char* key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
}

TEST_CASE("The SAS token for the capture's device equals the Node SDK's password for the same key and se",
          "[device][credentials]") {
  const auto connect = mockhub::test::capture_packet("connect");
  const std::string captured = connect.at("password");
  const auto se = sas_token_expiry(captured);
  REQUIRE(se == 1795696880);
  const auto cs = connection_string::parse(std::string("HostName=testhub.azure-devices.net;DeviceId=dev1;SharedAccessKey=") + key +
                                           ";GatewayHostName=localhost:8883");
  CHECK(make_sas_token(cs.resource_uri(), *cs.shared_access_key, *se) == captured);
  // The same through a time_point (whole seconds, rounded down).
  const auto at = std::chrono::system_clock::time_point{std::chrono::seconds{*se}} + std::chrono::milliseconds{999};
  CHECK(make_sas_token(cs.resource_uri(), *cs.shared_access_key, at) == captured);
  // Another key or expiry signs differently.
  CHECK(make_sas_token(cs.resource_uri(), "YW5vdGhlcmtleQ==", *se) != captured);
  CHECK(make_sas_token(cs.resource_uri(), *cs.shared_access_key, *se + 1) != captured);
}

TEST_CASE("A policy key's token names the policy (skn); a bad key is refused", "[device][credentials]") {
  const auto t = make_sas_token("h/devices/d", key, 100, "device");
  CHECK(t.starts_with("SharedAccessSignature sr=h%2Fdevices%2Fd&sig="));
  CHECK(t.ends_with("&se=100&skn=device"));
  CHECK(sas_token_expiry(t) == 100);
  CHECK_FALSE(sas_token_expiry("SharedAccessSignature sr=x&sig=y"));
  CHECK_FALSE(sas_token_expiry("SharedAccessSignature sr=x&se=12a"));
  CHECK_THROWS_AS(make_sas_token("h/devices/d", "not base64!", 100), std::invalid_argument);
}

TEST_CASE("The username names the hub, the device, the api-version and the client type", "[device][credentials]") {
  const auto cs = connection_string::parse(std::string("HostName=testhub.azure-devices.net;DeviceId=dev1;SharedAccessKey=") + key);
  CHECK(make_username(cs) == "testhub.azure-devices.net/dev1/?api-version=2021-04-12&DeviceClientType=mockhub-device%2F0.1");
  // The capture's username has the same shape (host/device/?api-version=...&DeviceClientType=...).
  const std::string captured = mockhub::test::capture_packet("connect").at("username");
  CHECK(captured.starts_with("testhub.azure-devices.net/dev1/?api-version=2021-04-12&DeviceClientType="));
  // (Node's encodeURIComponent leaves "()" alone where ours escapes them, so the whole strings differ.)
  auto module = cs;
  module.module_id = "m1";
  CHECK(make_username(module) == "testhub.azure-devices.net/dev1/m1/?api-version=2021-04-12&DeviceClientType=mockhub-device%2F0.1");
}
