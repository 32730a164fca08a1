// The real hub's fault injection on the MQTT path: a device sends telemetry with
// AzIoTHub_FaultOperationType (and CloseReason, DelayInSecs, DurationInSecs), as the official SDKs'
// end-to-end tests do, and the hub faults that device's connection (table in docs/fidelity.md).
#include <catch2/catch.hpp>

#include "fault_helpers.hpp"
#include "service/service_client.hpp"

using namespace mockhub;
using namespace std::chrono_literals;
using faults_test::connection_log;

namespace {

device::message fault(const std::string& type, const std::string& delay, const std::string& duration = "0") {
  device::message m;
  m.body = "fault";
  m.properties = {{"AzIoTHub_FaultOperationType", type},
                  {"AzIoTHub_FaultOperationCloseReason", "boom"},
                  {"AzIoTHub_FaultOperationDelayInSecs", delay},
                  {"AzIoTHub_FaultOperationDurationInSecs", duration}};
  return m;
}

struct injection_fixture {
  harness::test_hub hub{faults_test::hub_config(41)};
  service::service_client backend{hub.service_connection_string(), hub.service_options(false)};
  std::unique_ptr<device::client> dev;
  std::unique_ptr<connection_log> log;

  injection_fixture() {
    hub.create_device("dev1");
    dev = std::make_unique<device::client>(hub.device_connection_string("dev1"), hub.device_options(false));
    dev->on_method("ping", [](const device::method_request& r) { return device::method_response{200, r.payload}; });
    log = std::make_unique<connection_log>(*dev);
    dev->connect().get();
    hub.wait_for_subscribed("dev1", "methods");
  }
  ~injection_fixture() { dev.reset(); }  // the client reports its close to the log: close it first
  std::size_t drops() { return log->count(connection_log::dropped); }
  // The device is connected (for the `n`th time) and the hub routes a method call to it.
  void round_trip(std::size_t connections) {
    REQUIRE(log->wait(connection_log::connected, connections));
    // A twin GET on the new connection: the hub answers it only after it has seen that connection
    // (the plugin announces a connection before it routes anything from it), so the hub's view
    // is no longer the dropped one's.
    dev->get_twin().get();
    hub.wait_for_subscribed("dev1", "methods");
    const auto answer = backend.invoke_method("dev1", {.method_name = "ping", .payload = {{"n", connections}}});
    CHECK(answer.status == 200);
    CHECK(answer.payload == nlohmann::json{{"n", connections}});
  }
};

}  // namespace

TEST_CASE_METHOD(injection_fixture, "KillTcp drops the connection after the delay and the device reconnects", "[faults]") {
  dev->send_telemetry(fault("KillTcp", "2")).get();  // acknowledged: the fault is the hub's business
  hub.wait_for_telemetry("dev1", 1);                  // the hub has read it
  hub.advance(1s);
  round_trip(1);  // one second in: still the first connection
  CHECK(drops() == 0);
  hub.advance(1s);
  REQUIRE(log->wait(connection_log::dropped));
  round_trip(2);
  CHECK(drops() == 1);
  // The fault message is telemetry too, with its properties.
  const auto logged = hub.wait_for_telemetry("dev1", 1);
  CHECK(logged.at(0).properties.at("AzIoTHub_FaultOperationType") == "KillTcp");
}

TEST_CASE_METHOD(injection_fixture, "ShutDownMqtt with no delay drops the connection at once", "[faults]") {
  dev->send_telemetry(fault("ShutDownMqtt", "0")).get();
  REQUIRE(log->wait(connection_log::dropped));
  round_trip(2);
}

TEST_CASE_METHOD(injection_fixture,
                 "InvokeAuthError drops the connection and refuses it (CONNACK 5) until the duration has passed",
                 "[faults]") {
  dev->send_telemetry(fault("InvokeAuthError", "0", "10")).get();
  // The reconnection is refused as a bad credential, which a device does not retry.
  REQUIRE(log->wait([](const device::connection_event& e) { return e.reason == device::connection_reason::bad_credential; }));
  CHECK(dev->status() == device::connection_status::disconnected);
  hub.advance(10s);  // the fault ends; advance returns once the broker admits the device again
  dev->connect().get();
  round_trip(2);
}

TEST_CASE_METHOD(injection_fixture,
                 "InvokeThrottling drops the connection, then on each message, until the duration has passed",
                 "[faults]") {
  dev->send_telemetry(fault("InvokeThrottling", "0", "10")).get();
  REQUIRE(log->wait(connection_log::dropped));
  REQUIRE(log->wait(connection_log::connected, 2));
  dev->send_telemetry(device::message{.body = "while throttled"}).get();  // PUBACK, then the hub drops it
  REQUIRE(log->wait(connection_log::dropped, 2));
  round_trip(3);  // methods still reach a throttled device between its messages

  hub.advance(10s);
  dev->send_telemetry(device::message{.body = "after"}).get();
  hub.wait_for_telemetry("dev1", 3);
  round_trip(3);
  CHECK(drops() == 2);
}

TEST_CASE_METHOD(injection_fixture, "AMQP-only fault types are ordinary telemetry on MQTT", "[faults]") {
  dev->send_telemetry(fault("KillAmqpConnection", "0")).get();
  dev->send_telemetry(fault("ShutDownAmqp", "0")).get();
  const auto logged = hub.wait_for_telemetry("dev1", 2);
  CHECK(logged.at(1).properties.at("AzIoTHub_FaultOperationType") == "ShutDownAmqp");
  round_trip(1);
  CHECK(drops() == 0);
}
