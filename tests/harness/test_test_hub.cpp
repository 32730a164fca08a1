// test_hub: what it hands out, the bounded waits and their failures, fleets, hub.json.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include <stdlib.h>

#include <mockhub/device/client.hpp>
#include <mockhub/harness/test_hub.hpp>

#include "service/service_client.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
namespace device = mockhub::device;
namespace fleet = mockhub::device::fleet;
namespace harness = mockhub::harness;
namespace service = mockhub::service;

namespace {

std::string what_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string t = (std::filesystem::temp_directory_path() / "harness-test-XXXXXX").string();
    if (!::mkdtemp(t.data())) throw std::runtime_error("mkdtemp failed");
    path = t;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("test_hub hands out working connection strings, URLs and client options", "[harness]") {
  harness::test_hub hub({.seed = 3});
  CHECK(hub.host_name() == "localhost");
  CHECK(hub.service_connection_string().rfind("HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=", 0) == 0);
  CHECK(hub.rest_url().rfind("http://127.0.0.1:", 0) == 0);
  CHECK(hub.https_url().rfind("https://127.0.0.1:", 0) == 0);
  CHECK(std::filesystem::is_regular_file(hub.ca_file()));
  CHECK(hub.mqtt_port() != 0);
  CHECK(hub.mqtts_port() != 0);
  CHECK(hub.now() == std::chrono::sys_days{std::chrono::year{2026} / 1 / 1});

  const std::string cs = hub.create_device("sensor1", {{"building", 44}});
  CHECK(cs == hub.device_connection_string("sensor1"));
  CHECK(cs.rfind("HostName=localhost;DeviceId=sensor1;SharedAccessKey=", 0) == 0);

  SECTION("over HTTPS and MQTT over TLS") {
    service::service_client backend(hub.service_connection_string(), hub.service_options());
    CHECK(backend.twins().get_twin("sensor1").tags == json{{"building", 44}});
    device::client d(cs, hub.device_options());
    REQUIRE(d.connect().wait_for(30s));
    hub.wait_for_connected("sensor1");
  }
  SECTION("over HTTP and plain MQTT") {
    service::service_client backend(hub.service_connection_string(), hub.service_options(false));
    CHECK(backend.base_url() == hub.rest_url());
    device::client d(cs, hub.device_options(false));
    REQUIRE(d.connect().wait_for(30s));
    hub.wait_for_connected("sensor1");
  }
}

TEST_CASE("test_hub waits for telemetry and desired writes, and names what it awaited on timeout", "[harness]") {
  harness::test_hub hub({.seed = 4, .wait_bound = 2s});
  device::client d(hub.create_device("probe"), hub.device_options());
  REQUIRE(d.connect().wait_for(30s));

  SECTION("telemetry arrives") {
    d.send_telemetry({.body = R"({"t":21.5})", .message_id = "m1", .properties = {{"alert", "no"}}});
    const auto got = hub.wait_for_telemetry("probe", 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].device_id == "probe");
    CHECK(got[0].body == R"({"t":21.5})");
    CHECK(got[0].properties == std::map<std::string, std::string>{{"alert", "no"}});
    CHECK(got[0].system_properties["messageId"] == "m1");
    CHECK(got[0].enqueued_time == "2026-01-01T00:00:00.0000000Z");
    CHECK(got[0].sequence_number == 1);
  }
  SECTION("telemetry that never comes times out with a clear message") {
    CHECK_THROWS_AS(hub.wait_for_telemetry("probe", 1, 200ms), harness::wait_timeout);
    CHECK(what_of([&] { hub.wait_for_telemetry("probe", 2, 200ms); }) ==
          "test_hub: timed out after 200 ms waiting for 2 telemetry message(s) from 'probe' (received 0)");
  }
  SECTION("a desired write reaches the hub") {
    service::service_client backend(hub.service_connection_string(), hub.service_options());
    backend.twins().update_twin("probe", {{"properties", {{"desired", {{"mode", "eco"}}}}}});
    hub.wait_for_desired_version("probe", 2);
    CHECK(what_of([&] { hub.wait_for_desired_version("probe", 5, 100ms); }) ==
          "test_hub: timed out after 100 ms waiting for desired $version 5 of 'probe' (desired $version 2)");
  }
  SECTION("a device that never connects") {
    hub.create_device("offline");
    CHECK(what_of([&] { hub.wait_for_connected("offline", 100ms); }) ==
          "test_hub: timed out after 100 ms waiting for device 'offline' to connect");
  }
  SECTION("a device that is connected but not subscribed") {
    CHECK(what_of([&] { hub.wait_for_subscribed("probe", "c2d", 100ms); }) ==
          "test_hub: timed out after 100 ms waiting for device 'probe' to subscribe to c2d");
  }
  SECTION("the virtual clock does not move backwards") {
    CHECK(what_of([&] { hub.advance(-1ms); }) == "test_hub::advance: the clock cannot move backwards");
  }
  SECTION("a job that does not exist") {
    CHECK(what_of([&] { hub.wait_for_job("nope", "completed"); }) ==
          "test_hub: timed out after 2 s waiting for job 'nope' to be completed (last status: not found)");
  }
}

TEST_CASE("test_hub refuses what it cannot do with a clear error", "[harness]") {
  CHECK(what_of([] { harness::test_hub hub({.tier = "S9"}); }) == "test_hub: unknown tier 'S9' (F1, S1, S2 or S3)");
  CHECK(what_of([] { harness::test_hub hub({.tls = false, .fleet_over_tls = true}); }) ==
        "test_hub: fleet_over_tls needs tls");
  CHECK(what_of([] { harness::test_hub hub({.fleet_file = "f.json", .fleet = fleet::fleet_fixture{}}); }) ==
        "test_hub: give fleet or fleet_file, not both");

  harness::test_hub hub({.virtual_clock = false, .tls = false});
  CHECK(hub.ca_file().empty());
  CHECK(hub.https_url().empty());
  CHECK(hub.mqtts_port() == 0);
  CHECK(hub.service_options().endpoint_override->scheme == "http");
  CHECK(what_of([&] { hub.advance(1s); }) == "test_hub::advance: the hub runs on the system clock");
  CHECK(what_of([&] { hub.wait_for_fleet_connected(); }) == "test_hub: no fleet is running");
  CHECK(what_of([&] { hub.wait_for_job("j", "done"); }) == "test_hub::wait_for_job: unknown job status 'done'");
  CHECK(what_of([&] { hub.wait_for_subscribed("d", "twin"); }) ==
        "test_hub::wait_for_subscribed: 'twin' is not one of methods, desired, c2d");
  CHECK(what_of([&] { hub.device_connection_string("ghost"); }).rfind("test_hub: ", 0) == 0);
  CHECK_THROWS_AS(hub.device_connection_string("ghost"), std::invalid_argument);
  CHECK(what_of([&] { hub.create_device("bad id!"); }).rfind("test_hub: cannot create device 'bad id!': ", 0) == 0);
  CHECK(what_of([&] { hub.fleet_report(); }) == "test_hub: no fleet is running");
  CHECK(what_of([&] { hub.wait_for_method("d", "m"); }) == "test_hub: no fleet is running");
}

TEST_CASE("MOCKHUB_BROKER_PLUGIN overrides where the hub finds its broker plugin", "[harness]") {
  ::setenv("MOCKHUB_BROKER_PLUGIN", "/nonexistent/mockhub_broker_plugin.so", 1);
  const std::string error = what_of([] { harness::test_hub hub; });
  ::unsetenv("MOCKHUB_BROKER_PLUGIN");
  CHECK(error.rfind("mosquitto plugin not found: /nonexistent/mockhub_broker_plugin.so; ", 0) == 0);
  harness::test_hub hub;  // and without it, the build's plugin
  CHECK(hub.mqtt_port() != 0);
}

TEST_CASE("test_hub reports a job that ended otherwise than awaited at once", "[harness][job]") {
  harness::test_hub hub({.seed = 5});
  hub.create_device("gone", {{"building", 1}});  // never connects: the method fails 404103
  service::service_client backend(hub.service_connection_string(), hub.service_options());
  backend.jobs().schedule_device_method({.job_id = "j1", .query_condition = "*", .method = {.method_name = "lockDoor"}});
  const json job = hub.wait_for_job("j1", "completed");  // a job completes even when devices fail
  CHECK(job["deviceJobStatistics"]["failedCount"] == 1);

  backend.jobs().schedule_device_method(
      {.job_id = "j2", .query_condition = "*", .method = {.method_name = "lockDoor"}, .start_time = hub.now() + 1h});
  hub.wait_for_job("j2", "scheduled");
  backend.jobs().cancel_job("j2");
  CHECK(what_of([&] { hub.wait_for_job("j2", "completed"); }) ==
        "test_hub: job 'j2' ended cancelled while waiting for it to be completed");
}

TEST_CASE("test_hub seeds and simulates a fleet, and waits on its events", "[harness][fleet]") {
  const json fixture = {
      {"seed", 9},
      {"behaviours",
       {{"lock", {{"methods", {{"lockDoor", {{"status", 200}, {"payload", {{"ok", true}}}}}}}, {"desired_echo", true}}}}},
      {"devices",
       {{{"id", "door-1"}, {"behaviour", "lock"}, {"tags", {{"building", 43}}}, {"reported", {{"lockState", "locked"}}}},
        {{"id", "door-2"}, {"behaviour", "lock"}, {"tags", {{"building", 43}}}}}}};
  harness::test_hub hub({.seed = 6, .fleet = fleet::fleet_fixture::parse(fixture)});
  hub.wait_for_fleet_connected();
  CHECK(hub.fleet_index("door-2") == 1);
  CHECK(what_of([&] { hub.fleet_index("door-3"); }) == "test_hub: device 'door-3' is not in the fleet");

  service::service_client backend(hub.service_connection_string(), hub.service_options());
  CHECK(backend.twins().get_twin("door-1").tags == json{{"building", 43}});
  CHECK(backend.twins().get_twin("door-1").reported["lockState"] == "locked");

  hub.wait_for_subscribed("door-1", "methods");
  hub.wait_for_subscribed("door-1", "desired");
  const auto answer = backend.invoke_method("door-1", {.method_name = "lockDoor"});
  CHECK(answer.status == 200);
  CHECK(answer.payload == json{{"ok", true}});
  hub.wait_for_method("door-1", "lockDoor");

  backend.twins().update_twin("door-2", {{"properties", {{"desired", {{"mode", "night"}}}}}});
  hub.wait_for_desired_patch("door-2");
  const auto echoed = hub.wait_for_fleet_event("door-2", fleet::fleet_event::kind::reported_acked);
  CHECK(echoed.device == 1);

  CHECK(hub.fleet_report().methods_answered == 1);
  CHECK(what_of([&] { hub.wait_for_method("door-2", "unlockDoor", 100ms); }) ==
        "test_hub: timed out after 100 ms waiting for 1 method 'unlockDoor'(s) of fleet device 'door-2' (seen 0)");
  CHECK(what_of([&] { hub.start_fleet(fleet::fleet_fixture::parse(fixture)); }) ==
        "test_hub: a fleet is running already (one per hub)");
}

TEST_CASE("test_hub runs a fixture file: the tutorial's door locks", "[harness][fleet]") {
  harness::test_hub hub({.seed = 8});
  auto fixture = fleet::fleet_fixture::load(MOCKHUB_FIXTURES_DIR "/fleets/door-locks.json");
  fixture.devices.resize(3);  // frontDoor and two locks are enough here
  hub.start_fleet(std::move(fixture));
  hub.wait_for_fleet_connected();
  CHECK(hub.fleet_report().devices == 3);
  CHECK(hub.fleet_events().size() >= 3);
}

TEST_CASE("running_hub reads hub.json and says what is wrong with it", "[harness]") {
  temp_dir dir;
  CHECK(what_of([&] { harness::running_hub::load(dir.path); }) ==
        "mockhub: no hub runs in " + dir.path.string() + " (" + (dir.path / "hub.json").string() + " is missing)");
  std::ofstream(dir.path / "hub.json") << "[1]";
  CHECK(what_of([&] { harness::running_hub::load(dir.path); }) ==
        "mockhub: " + (dir.path / "hub.json").string() + " is not a JSON object");
  std::ofstream(dir.path / "hub.json") << R"({"pid": 1})";
  CHECK(what_of([&] { harness::running_hub::load(dir.path); }).rfind("mockhub: " + (dir.path / "hub.json").string() + ": ", 0) == 0);

  std::ofstream(dir.path / "hub.json") << json{{"pid", 42},
                                               {"host_name", "localhost"},
                                               {"service_connection_string", "HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=a2V5"},
                                               {"rest_url", "http://127.0.0.1:8080"},
                                               {"mqtt_port", 1884},
                                               {"virtual_clock", true},
                                               {"devices", {{"d1", "HostName=localhost;DeviceId=d1;SharedAccessKey=a2V5"}}}}
                                              .dump();
  ::setenv("MOCKHUB_DATA_DIR", dir.path.c_str(), 1);
  const auto h = harness::running_hub::from_environment();
  ::unsetenv("MOCKHUB_DATA_DIR");
  CHECK(h.pid == 42);
  CHECK(h.https_url.empty());
  CHECK(h.mqtts_port == 0);
  CHECK(h.virtual_clock);
  CHECK(h.devices.at("d1") == "HostName=localhost;DeviceId=d1;SharedAccessKey=a2V5");
  CHECK(h.service_options().endpoint_override->to_string() == "http://127.0.0.1:8080");
  CHECK(h.device_options().port == 1884);
  CHECK_FALSE(h.device_options().tls.enabled);
}
