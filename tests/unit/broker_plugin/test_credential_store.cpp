#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "mock_hub/broker_plugin/credential_store.hpp"

using namespace mockhub::broker_plugin;
using nlohmann::json;

namespace {
const json snapshot = json::parse(R"({
  "mode": "snapshot", "host": "testhub.azure-devices.net",
  "devices": {"dev1": {"primary": "p1", "secondary": "s1", "enabled": true},
              "dev2": {"primary": "p2", "secondary": "s2", "enabled": false},
              "dev1/mod-a": {"primary": "pm", "secondary": "sm"}},
  "policies": [{"name": "iothubowner", "primary": "po", "secondary": "so", "device_connect": true},
               {"name": "service", "primary": "ps", "secondary": "ss", "device_connect": false}]
})");

void check_throws_with(credential_store& store, const std::string& payload, const std::string& phrase) {
  INFO("payload: " << payload);
  CHECK_THROWS_WITH(store.apply(payload), Catch::Contains(phrase));
}
}  // namespace

TEST_CASE("Nothing is known until a snapshot arrives", "[plugin]") {
  credential_store store;
  CHECK_FALSE(store.ready());
  CHECK(store.find("dev1") == nullptr);
  CHECK(store.policies().empty());
  check_throws_with(store, R"({"mode":"delta","devices":{"dev1":{"primary":"p"}}})", "before any snapshot");
  CHECK_FALSE(store.ready());
}

TEST_CASE("A snapshot sets host, devices, modules and policies", "[plugin]") {
  credential_store store;
  store.apply_json(snapshot);
  REQUIRE(store.ready());
  CHECK(store.host() == "testhub.azure-devices.net");
  CHECK(store.device_count() == 3);
  REQUIRE(store.find("dev1"));
  CHECK(store.find("dev1")->primary_key == "p1");
  CHECK(store.find("dev1")->secondary_key == "s1");
  CHECK(store.find("dev1")->enabled);
  CHECK_FALSE(store.find("dev2")->enabled);
  REQUIRE(store.find("dev1/mod-a"));
  CHECK(store.find("dev1/mod-a")->enabled);  // enabled defaults to true
  CHECK(store.find("dev3") == nullptr);
  REQUIRE(store.policies().size() == 2);
  CHECK(store.policies()[0].name == "iothubowner");
  CHECK(store.policies()[0].primary_key == "po");
  CHECK(store.policies()[0].rights.contains(mockhub::core::permission::device_connect));
  CHECK(store.policies()[1].rights.empty());
}

TEST_CASE("A second snapshot replaces everything", "[plugin]") {
  credential_store store;
  store.apply_json(snapshot);
  store.apply(std::string(R"({"mode":"snapshot","host":"other","devices":{"dev9":{"primary":"p9"}}})"));
  CHECK(store.host() == "other");
  CHECK(store.device_count() == 1);
  CHECK(store.find("dev1") == nullptr);
  CHECK(store.find("dev9")->secondary_key.empty());
  CHECK(store.policies().empty());
}

TEST_CASE("A delta adds, replaces and removes the devices it names and leaves the rest", "[plugin]") {
  credential_store store;
  store.apply_json(snapshot);
  store.apply(std::string(
      R"({"mode":"delta","devices":{"dev1":{"primary":"new","secondary":"s1","enabled":false},"dev2":null,"dev3":{"primary":"p3"},"ghost":null}})"));
  CHECK(store.find("dev1")->primary_key == "new");
  CHECK_FALSE(store.find("dev1")->enabled);
  CHECK(store.find("dev2") == nullptr);
  CHECK(store.find("dev3")->primary_key == "p3");
  CHECK(store.find("dev1/mod-a") != nullptr);
  CHECK(store.policies().size() == 2);  // no `policies` member: unchanged
  CHECK(store.host() == "testhub.azure-devices.net");

  SECTION("a delta's policies replace the list, its host the host") {
    store.apply(std::string(R"({"mode":"delta","host":"h2","policies":[{"name":"device","primary":"k","device_connect":true}]})"));
    REQUIRE(store.policies().size() == 1);
    CHECK(store.policies()[0].name == "device");
    CHECK(store.host() == "h2");
    store.apply(std::string(R"({"mode":"delta","policies":[]})"));
    CHECK(store.policies().empty());
  }
}

TEST_CASE("A bad message is refused whole and changes nothing", "[plugin]") {
  credential_store store;
  store.apply_json(snapshot);
  check_throws_with(store, "not json", "not JSON");
  check_throws_with(store, "[]", "not a JSON object");
  check_throws_with(store, R"({"host":"h"})", "no 'mode'");
  check_throws_with(store, R"({"mode":"replace"})", "unknown mode 'replace'");
  check_throws_with(store, R"({"mode":"snapshot","devices":{}})", "a snapshot has no 'host'");
  check_throws_with(store, R"({"mode":"snapshot","host":""})", "empty host");
  check_throws_with(store, R"({"mode":"snapshot","host":"h","devices":[]})", "'devices' is not an object");
  check_throws_with(store, R"({"mode":"snapshot","host":"h","devices":{"d":null}})", "null in a snapshot");
  check_throws_with(store, R"({"mode":"snapshot","host":"h","devices":{"d":{"primary":1}}})",
                    "device 'd''s 'primary' is not a string");
  check_throws_with(store, R"({"mode":"snapshot","host":"h","devices":{"d":{"enabled":"yes"}}})",
                    "'enabled' is not true or false");
  check_throws_with(store, R"({"mode":"snapshot","host":"h","policies":{}})", "'policies' is not an array");
  check_throws_with(store, R"({"mode":"snapshot","host":"h","policies":[{"primary":"k"}]})", "a policy has no 'name'");
  // A delta whose last entry is bad must not apply its first one.
  check_throws_with(store, R"({"mode":"delta","devices":{"dev1":null,"dev3":{"secondary":false}}})",
                    "device 'dev3''s 'secondary' is not a string");

  CHECK(store.host() == "testhub.azure-devices.net");
  CHECK(store.device_count() == 3);
  CHECK(store.find("dev1") != nullptr);
  CHECK(store.policies().size() == 2);
}

TEST_CASE("clear forgets everything until the next snapshot", "[plugin]") {
  credential_store store;
  store.apply_json(snapshot);
  store.clear();
  CHECK_FALSE(store.ready());
  CHECK(store.find("dev1") == nullptr);
  CHECK(store.policies().empty());
  CHECK(store.host().empty());
}
