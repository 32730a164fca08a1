#include <catch2/catch.hpp>

#include "mock_hub/broker_plugin/iothub_username.hpp"
#include "unit/broker_plugin/capture.hpp"

using namespace mockhub::broker_plugin;

TEST_CASE("The Node SDK's CONNECT username parses to host, device and decoded parameters", "[plugin]") {
  const auto connect = mockhub::testing::first_packet("connect");
  const auto parsed = parse_iothub_username(connect.at("username").get<std::string>());
  REQUIRE(parsed);
  CHECK(parsed->host == "testhub.azure-devices.net");
  CHECK(parsed->device_id == "dev1");
  CHECK_FALSE(parsed->module_id);
  CHECK(parsed->client_id() == connect.at("clientId"));
  CHECK(parsed->api_version() == "2021-04-12");
  CHECK(parsed->client_type() == "azure-iot-device/1.18.4 (node v20.20.2; Debian 12; x64)");
  CHECK_FALSE(parsed->model_id());
}

TEST_CASE("The C SDK's username without '?' parses the same way", "[plugin]") {
  const auto parsed =
      parse_iothub_username("myhub.azure-devices.net/dev1/api-version=2016-11-14&DeviceClientType=iothubclient%2f1.1.7");
  REQUIRE(parsed);
  CHECK(parsed->host == "myhub.azure-devices.net");
  CHECK(parsed->device_id == "dev1");
  CHECK_FALSE(parsed->module_id);
  CHECK(parsed->api_version() == "2016-11-14");
  CHECK(parsed->client_type() == "iothubclient/1.1.7");
}

TEST_CASE("A module's username carries the module id and its client id has a slash", "[plugin]") {
  SECTION("with '?'") {
    const auto parsed = parse_iothub_username(
        "h.azure-devices.net/dev1/mod-a/?api-version=2021-04-12&model-id=dtmi%3Acom%3Aexample%3AThermostat%3B1");
    REQUIRE(parsed);
    CHECK(parsed->device_id == "dev1");
    CHECK(parsed->module_id == "mod-a");
    CHECK(parsed->client_id() == "dev1/mod-a");
    CHECK(parsed->model_id() == "dtmi:com:example:Thermostat;1");
  }
  SECTION("without '?'") {
    const auto parsed = parse_iothub_username("h/dev1/mod-a/api-version=2019-10-01");
    REQUIRE(parsed);
    CHECK(parsed->module_id == "mod-a");
    CHECK(parsed->api_version() == "2019-10-01");
  }
}

TEST_CASE("Usernames are read tolerantly", "[plugin]") {
  SECTION("no query at all, with or without a trailing slash") {
    for (const char* text : {"h/dev1", "h/dev1/"}) {
      const auto parsed = parse_iothub_username(text);
      REQUIRE(parsed);
      CHECK(parsed->device_id == "dev1");
      CHECK_FALSE(parsed->module_id);
      CHECK(parsed->query.empty());
    }
  }
  SECTION("an empty query after '/?'") {
    const auto parsed = parse_iothub_username("h/dev1/?");
    REQUIRE(parsed);
    CHECK(parsed->query.empty());
  }
  SECTION("parameter names match case-insensitively, the first one wins, '+' is a space") {
    const auto parsed = parse_iothub_username("h/d/?API-VERSION=1&api-version=2&DeviceClientType=a+b&flag&&x=%zz");
    REQUIRE(parsed);
    CHECK(parsed->api_version() == "1");
    CHECK(parsed->client_type() == "a b");
    CHECK(parsed->parameter("flag") == "");
    CHECK(parsed->parameter("x") == "%zz");  // a malformed escape is kept as written
    CHECK_FALSE(parsed->parameter("missing"));
  }
  SECTION("device ids keep '=', '?' and '%' as written") {
    const auto with_equals = parse_iothub_username("h/a=b/?api-version=1");
    REQUIRE(with_equals);
    CHECK(with_equals->device_id == "a=b");
    const auto with_question = parse_iothub_username("h/a?b/?api-version=1");
    REQUIRE(with_question);
    CHECK(with_question->device_id == "a?b");
    const auto with_percent = parse_iothub_username("h/a%20b");
    REQUIRE(with_percent);
    CHECK(with_percent->device_id == "a%20b");
  }
}

TEST_CASE("Usernames without a host and a device id are refused", "[plugin]") {
  const char* bad = GENERATE("", "h", "h/", "/dev1", "h//?api-version=1", "h/dev1//?a=1", "h/d/m/extra/?a=1",
                             "h/d/m/extra", "$mockhub");
  INFO("username: " << bad);
  CHECK_FALSE(parse_iothub_username(bad));
}
