// The real hub's fault injection by message properties (AzIoTHub_FaultOperationType and friends),
// as the official SDKs' end-to-end tests send them; the core decides, the channel acts.
#include <catch2/catch.hpp>
#include <catch2/trompeloeil.hpp>

#include "mock_device_channel.hpp"
#include "mock_hub/core/fault_injection.hpp"
#include "mock_hub/core/hub.hpp"

using namespace mockhub::core;
using trompeloeil::_;
using namespace std::chrono_literals;

namespace {

application_properties fault(std::string type, std::optional<std::string> delay = "1",
                             std::optional<std::string> length = "5") {
  application_properties p{{"AzIoTHub_FaultOperationType", std::move(type)},
                           {"AzIoTHub_FaultOperationCloseReason", "boom"}};
  if (delay) p["AzIoTHub_FaultOperationDelayInSecs"] = *delay;
  if (length) p["AzIoTHub_FaultOperationDurationInSecs"] = *length;
  return p;
}

struct fault_fixture {
  virtual_clock clk;
  id_source ids{3};
  mockhub::testing::mock_device_channel channel;
  hub h{{}, clk, ids, channel};
  std::vector<bool> enabled_seen;  // every credential push for dev1: enabled or not
  std::unique_ptr<trompeloeil::expectation> identities =
      NAMED_ALLOW_CALL(channel, identity_changed(_, _)).LR_SIDE_EFFECT(if (_2) enabled_seen.push_back(_2->status == device_status::enabled));
  fault_fixture() {
    h.create_or_update_identity("dev1", {}, std::nullopt);
    connection_info info;
    info.generation = 1;
    h.device_connected("dev1", info);
    enabled_seen.clear();
  }
  void send(application_properties p) {
    device_to_cloud_message m;
    m.device_id = "dev1";
    m.application = std::move(p);
    h.device_sent_telemetry(std::move(m));
  }
};

}  // namespace

TEST_CASE("Fault requests are read from the property names and values the SDKs' tests send", "[core][faults]") {
  SECTION("the MQTT-meaningful types") {
    const auto kill = fault_requested(fault("KillTcp", "1.5", std::nullopt));
    REQUIRE(kill);
    CHECK(kill->action == fault_action::drop_connection);
    CHECK(kill->delay == 1500ms);
    CHECK(kill->fault_duration == 0s);
    CHECK(kill->close_reason == "boom");
    CHECK(fault_requested(fault("ShutDownMqtt"))->action == fault_action::drop_connection);
    CHECK(fault_requested(fault("InvokeThrottling"))->action == fault_action::drop_on_send);
    CHECK(fault_requested(fault("InvokeMaxMessageQuota"))->action == fault_action::drop_on_send);
    const auto auth = fault_requested(fault("InvokeAuthError", "0", "5"));
    REQUIRE(auth);
    CHECK(auth->action == fault_action::refuse_connections);
    CHECK(auth->fault_duration == 5s);
    CHECK(fault_requested(fault("KillTcp", std::nullopt, std::nullopt))->delay == 0s);
  }
  SECTION("ordinary telemetry: no type, AMQP-only or unknown types, delays that are not seconds 0-3600") {
    const auto [type, delay] = GENERATE(table<std::string, std::string>({
        {"KillAmqpConnection", "1"},
        {"ShutDownAmqp", "1"},
        {"killtcp", "1"},
        {"KillTcp", "-1"},
        {"KillTcp", "soon"},
        {"KillTcp", "1s"},
        {"KillTcp", ""},
        {"KillTcp", "3601"},
        {"KillTcp", "nan"},
    }));
    CAPTURE(type, delay);
    CHECK_FALSE(fault_requested(fault(type, delay)));
    CHECK_FALSE(fault_requested({{"temperature", "21"}}));
  }
}

TEST_CASE_METHOD(fault_fixture, "KillTcp drops the sender's connection once, after the delay", "[core][faults]") {
  {
    FORBID_CALL(channel, disconnect(_));
    send(fault("KillTcp", "2"));
    clk.advance(1999ms);
  }
  {
    REQUIRE_CALL(channel, disconnect("dev1"));
    clk.advance(1ms);
  }
  CHECK_FALSE(h.active_fault("dev1"));
  // The message is telemetry as well (logged, numbered); later messages are untouched.
  FORBID_CALL(channel, disconnect(_));
  send({{"temperature", "21"}});
  CHECK(h.telemetry().messages("dev1").size() == 2);
  CHECK(enabled_seen.empty());
}

TEST_CASE_METHOD(fault_fixture, "Throttling drops the connection, then on every message until the duration passes",
                 "[core][faults]") {
  {
    REQUIRE_CALL(channel, disconnect("dev1"));
    send(fault("InvokeThrottling", "0", "5"));
  }
  CHECK(h.active_fault("dev1") == fault_action::drop_on_send);
  {
    REQUIRE_CALL(channel, disconnect("dev1"));
    clk.advance(4s);
    send({{"temperature", "21"}});
  }
  clk.advance(1s);
  CHECK_FALSE(h.active_fault("dev1"));
  FORBID_CALL(channel, disconnect(_));
  send({{"temperature", "22"}});
  CHECK(enabled_seen.empty());  // throttling never touches the credentials
}

TEST_CASE_METHOD(fault_fixture, "An auth error refuses the device's connections for the duration, then admits it again",
                 "[core][faults]") {
  {
    FORBID_CALL(channel, disconnect(_));
    send(fault("InvokeAuthError", "1", "5"));
  }
  {
    REQUIRE_CALL(channel, disconnect("dev1"));
    clk.advance(1s);
  }
  CHECK(h.active_fault("dev1") == fault_action::refuse_connections);
  CHECK(enabled_seen == std::vector<bool>{false});
  SECTION("a registry write meanwhile keeps the refusal") {
    device_identity_request r;
    r.status = device_status::enabled;
    h.create_or_update_identity("dev1", r, "*");
    CHECK(enabled_seen == std::vector<bool>{false, false});
    clk.advance(5s);
    CHECK(enabled_seen == std::vector<bool>{false, false, true});
    CHECK(h.registry().get_identity("dev1").status == device_status::enabled);  // the registry never changed
  }
  SECTION("the duration passes") {
    clk.advance(4999ms);
    CHECK(enabled_seen == std::vector<bool>{false});
    clk.advance(1ms);
    CHECK(enabled_seen == std::vector<bool>{false, true});
    CHECK_FALSE(h.active_fault("dev1"));
  }
  SECTION("deleting the device ends the fault; nothing fires later") {
    REQUIRE_CALL(channel, disconnect("dev1")).TIMES(0, 1);
    h.delete_identity("dev1", std::nullopt);
    clk.advance(10s);
    CHECK(enabled_seen == std::vector<bool>{false});
  }
}

TEST_CASE_METHOD(fault_fixture, "A new fault request replaces a pending one", "[core][faults]") {
  send(fault("KillTcp", "10"));
  send(fault("ShutDownMqtt", "2"));
  {
    REQUIRE_CALL(channel, disconnect("dev1"));
    clk.advance(2s);
  }
  FORBID_CALL(channel, disconnect(_));
  clk.advance(10s);
}

TEST_CASE_METHOD(fault_fixture, "A method call in flight fails 404103 when the device's connection is replaced",
                 "[core][faults]") {
  h.device_subscribed("dev1", 1, device_subscription::methods);
  std::optional<method_outcome> outcome;
  REQUIRE_CALL(channel, send_method_request("dev1", "reboot", _, _));
  method_request r;
  r.method_name = "reboot";
  h.invoke_device_method("dev1", r, [&](const method_outcome& o) { outcome = o; });
  REQUIRE_FALSE(outcome);
  device_session live;
  live.connected = true;
  live.subscriptions = static_cast<std::uint8_t>(device_subscription::methods);

  SECTION("a takeover: the new connection is announced before the old one's disconnect") {
    connection_info info;
    info.generation = 2;
    h.device_connected("dev1", info);
  }
  SECTION("after a broker restart the resync shows the device on a new connection") {
    live.connection.generation = (std::uint64_t{2} << 40) | 1;
    h.connections_resynced({{"dev1", live}});
  }
  REQUIRE(outcome);
  const auto* e = std::get_if<hub_error>(&*outcome);
  REQUIRE(e);
  CHECK(e->code() == 404103);
  CHECK(h.sessions().is_connected("dev1"));
}

TEST_CASE_METHOD(fault_fixture, "A resync that shows the same connection leaves a call in flight alone", "[core][faults]") {
  h.device_subscribed("dev1", 1, device_subscription::methods);
  std::optional<method_outcome> outcome;
  std::string rid;
  REQUIRE_CALL(channel, send_method_request("dev1", "reboot", _, _)).LR_SIDE_EFFECT(rid = std::string(_3));
  method_request r;
  r.method_name = "reboot";
  h.invoke_device_method("dev1", r, [&](const method_outcome& o) { outcome = o; });
  device_session live;
  live.connected = true;
  live.connection.generation = 1;
  live.subscriptions = static_cast<std::uint8_t>(device_subscription::methods);
  h.connections_resynced({{"dev1", live}});
  CHECK_FALSE(outcome);
  CHECK(h.device_method_response("dev1", rid, 200, "{}"));
  REQUIRE(outcome);
  CHECK(std::get<method_result>(*outcome).status == 200);
}
