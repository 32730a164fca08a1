// Device-to-cloud messages over the real hub's 256 KB limit (262,144 bytes: payload plus property
// bag, docs/fidelity.md "D2C message size"): the broker plugin refuses one without a PUBACK and
// closes the connection, as the real hub drops an MQTT device that sends one; the message is not
// recorded, and the hub keeps serving the other devices. At the limit a message is recorded whole.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "fault_helpers.hpp"

using namespace mockhub;
using namespace std::chrono_literals;
using faults_test::connection_log;

namespace {

/// The connection was lost and, without retries, given up.
bool dropped(const device::connection_event& e) {
  return e.status == device::connection_status::disconnected && e.reason == device::connection_reason::retry_expired;
}

struct oversize_fixture {
  harness::test_hub hub{faults_test::hub_config(43)};
  std::unique_ptr<device::client> big;  // the device that sends too much, with its connection log
  std::unique_ptr<connection_log> big_log;

  oversize_fixture() {
    for (const char* id : {"edge", "big", "other"}) hub.create_device(id);
    big = make_client("big");
    big_log = std::make_unique<connection_log>(*big);
    big->connect().get();
  }
  ~oversize_fixture() { big.reset(); }  // the client reports its close to the log: close it first
  /// A device that does not reconnect, so a drop is final.
  std::unique_ptr<device::client> make_client(const std::string& id) {
    auto options = hub.device_options(false);
    options.retry = std::make_shared<device::no_retry>();
    options.operation_timeout = 10s;
    return std::make_unique<device::client>(hub.device_connection_string(id), options);
  }
  std::unique_ptr<device::client> connect(const std::string& id) {
    auto c = make_client(id);
    c->connect().get();
    return c;
  }
};

}  // namespace

TEST_CASE_METHOD(oversize_fixture,
                 "Telemetry of 262144 bytes is recorded and 262145 closes the connection unrecorded",
                 "[faults]") {
  auto edge = connect("edge");
  auto other = connect("other");

  edge->send_telemetry({.body = std::string(262'144, 'e')}).get();
  const auto at_limit = hub.wait_for_telemetry("edge", 1);
  REQUIRE(at_limit.size() == 1);
  CHECK(at_limit.at(0).body == std::string(262'144, 'e'));

  // One byte more: no PUBACK, the connection is closed.
  CHECK_THROWS_WITH(big->send_telemetry({.body = std::string(262'145, 'b')}).get(), Catch::Contains("connection lost"));
  REQUIRE(big_log->wait(dropped));
  CHECK(big->status() == device::connection_status::disconnected);

  // The hub keeps serving: the others are still connected and their messages are recorded.
  other->send_telemetry({.body = "after"}).get();
  const auto after = hub.wait_for_telemetry("other", 1);
  CHECK(after.at(0).body == "after");
  edge->send_telemetry({.body = "still here"}).get();
  CHECK(hub.wait_for_telemetry("edge", 2).at(1).body == "still here");
  // The refused message never reached the hub (the broker refused it before forwarding anything).
  CHECK(hub.wait_for_telemetry("big", 0).empty());
  CHECK(edge->status() == device::connection_status::connected);
  CHECK(other->status() == device::connection_status::connected);
}

TEST_CASE_METHOD(oversize_fixture, "The property bag counts toward the 262144 bytes", "[faults]") {
  auto edge = connect("edge");

  // The bag "a=b" is 3 bytes: a 262,141-byte body fits, 262,142 does not.
  device::message fits{.body = std::string(262'141, 'e')};
  fits.properties = {{"a", "b"}};
  edge->send_telemetry(fits).get();
  const auto recorded = hub.wait_for_telemetry("edge", 1);
  CHECK(recorded.at(0).body.size() == 262'141);
  CHECK(recorded.at(0).properties.at("a") == "b");

  device::message over{.body = std::string(262'142, 'b')};
  over.properties = {{"a", "b"}};
  CHECK_THROWS_WITH(big->send_telemetry(over).get(), Catch::Contains("connection lost"));
  REQUIRE(big_log->wait(dropped));
  edge->send_telemetry({.body = "next"}).get();
  CHECK(hub.wait_for_telemetry("edge", 2).at(1).body == "next");
  CHECK(hub.wait_for_telemetry("big", 0).empty());
}
