// Security: a connected device that tries to reach what is not its own — another device's topics,
// the hub's `$hub/` contract, `#`, `$SYS/#`, retained messages, another device's pending method
// call — is refused, and nobody else is affected: the victim receives nothing, its telemetry and
// method calls are intact, the hub keeps serving.
#include <catch2/catch.hpp>

#include <future>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_hub/broker_plugin/hub_topics.hpp"
#include "plugin_fixture.hpp"
#include "security_hub.hpp"

using namespace mockhub;
using namespace mockhub::test;
using nlohmann::json;

namespace {

/// mallory attacks, alice is the victim (connected, subscribed like an SDK), bob listens with
/// every filter a device may hold.
struct attack_scene {
  security_hub s;
  std::string mallory_key = s.create_device("mallory");
  std::string alice_key = s.create_device("alice");
  std::unique_ptr<plugin_mqtt_client> alice = s.device("alice", s.device_token("alice", alice_key));

  attack_scene() {
    REQUIRE(alice->subscribe("$iothub/twin/res/#", 0) == 0);
    REQUIRE(alice->subscribe("$iothub/twin/PATCH/properties/desired/#", 0) == 0);
    REQUIRE(alice->subscribe("devices/alice/messages/devicebound/#", 1) == 1);
  }
  std::unique_ptr<plugin_mqtt_client> mallory() { return s.device("mallory", s.device_token("mallory", mallory_key)); }

  /// alice and the hub are unharmed: alice is connected, received nothing but what the hub sends
  /// her next (a method round trip works), and the hub holds no telemetry of hers.
  void check_unharmed() {
    CHECK(alice->connected());
    CHECK(s.connected("alice"));
    s.method_round_trip(*alice, "alice");
    CHECK(s.hub.call([](core::hub& h) { return h.telemetry().messages("alice").size(); }) == 0);
  }
};

}  // namespace

TEST_CASE("Security: a device subscribing to what is not its own is disconnected and nobody else is affected",
          "[integration][security][acl]") {
  attack_scene scene;
  const std::string filter = GENERATE(as<std::string>{}, "#", "+", "$hub/#", "$hub/in/alice/#", "$SYS/#", "$iothub/#",
                                      "devices/alice/messages/devicebound/#", "devices/+/messages/devicebound/#",
                                      "devices/alice/messages/events/#", "devices/mallory/messages/events/#");
  INFO("filter " << filter);
  auto mallory = scene.mallory();
  // MQTT 3.1.1 would allow a SUBACK 0x80; the real hub closes the connection instead.
  CHECK_FALSE(mallory->subscribe(filter, 0));
  CHECK(mallory->wait_disconnected());
  CHECK(scene.s.wait_disconnected_at_hub("mallory"));
  CHECK_THAT(scene.s.hub.broker().log_tail(), Catch::Contains("mockhub: closing 'mallory': subscribe to unsupported filter '" + filter + "'"));
  scene.check_unharmed();
}

TEST_CASE("Security: a device publishing to what is not its own is disconnected and the message goes nowhere",
          "[integration][security][acl]") {
  attack_scene scene;
  const std::string topic = GENERATE(as<std::string>{}, "devices/alice/messages/events/",
                                     "devices/alice/messages/devicebound/forged", "$hub/in/alice/devices/alice/messages/events/",
                                     "$hub/out/alice/$iothub/methods/POST/unlock/?$rid=1", "$hub/ctl/kick/alice",
                                     "$hub/ctl/auth", "$hub/conn/alice", "$iothub/methods/POST/unlock/?$rid=1",
                                     "$iothub/twin/PATCH/properties/desired/?$version=9", "alice");
  INFO("topic " << topic);
  auto mallory = scene.mallory();
  mallory->publish_nowait(topic, R"({"mode":"snapshot","host":"x","devices":{}})", 1);
  CHECK(mallory->wait_disconnected());
  CHECK(scene.s.wait_disconnected_at_hub("mallory"));
  CHECK_THAT(scene.s.hub.broker().log_tail(), Catch::Contains("mockhub: closing 'mallory': publish to unsupported topic '" + topic + "'"));
  scene.check_unharmed();
  // The credentials are intact: alice and mallory may still connect.
  CHECK(scene.s.connect_code("mallory", scene.s.device_token("mallory", scene.mallory_key)) == 0);
}

TEST_CASE("Security: a publish to $SYS is dropped by the broker itself and nobody receives it", "[integration][security][acl]") {
  attack_scene scene;
  auto mallory = scene.mallory();
  // mosquitto 2.0.11 drops a client's $SYS publish before any plugin is asked (known gap: the
  // connection stays, where the real hub would close it).
  REQUIRE(mallory->publish("$SYS/broker/clients/connected", "0", 1));
  scene.check_unharmed();
  CHECK(mallory->connected());
  scene.s.method_round_trip(*mallory, "mallory");  // its own traffic still flows, and nothing else came
}

TEST_CASE("Security: a retained publish is never stored and no device receives a retained message", "[integration][security][acl]") {
  attack_scene scene;
  {
    auto mallory = scene.mallory();
    REQUIRE(mallory->publish("devices/mallory/messages/events/", "retain me", 1, /*retain=*/true));
    REQUIRE(scene.s.hub.wait_until([](core::hub& h) { return h.telemetry().messages("mallory").size() == 1; }));
    CHECK(scene.s.hub.call([](core::hub& h) { return h.telemetry().messages("mallory").front().body; }) == "retain me");
    mallory->disconnect();
    // Until the hub has seen this connection go, it would take the next one's subscriptions for
    // this one's, and fail the round trip's call when the disconnect arrives after all.
    REQUIRE(scene.s.wait_disconnected_at_hub("mallory"));
  }
  // mallory comes back and subscribes to every filter a device may hold: nothing retained arrives
  // (the next message is the method request of the round trip).
  auto mallory = scene.mallory();
  REQUIRE(mallory->subscribe("$iothub/twin/res/#", 0) == 0);
  REQUIRE(mallory->subscribe("$iothub/twin/PATCH/properties/desired/#", 0) == 0);
  REQUIRE(mallory->subscribe("devices/mallory/messages/devicebound/#", 1) == 1);
  scene.s.method_round_trip(*mallory, "mallory");
  scene.check_unharmed();
}

TEST_CASE("Security: a device cannot answer another device's pending method call", "[integration][security][acl]") {
  attack_scene scene;
  auto mallory = scene.mallory();
  auto done = std::make_shared<std::promise<core::method_outcome>>();
  auto outcome = done->get_future();
  scene.s.hub.call([&](core::hub& h) {
    h.invoke_device_method("alice", core::method_request::from_json({{"methodName", "unlock"}}),
                           [done](const core::method_outcome& o) { done->set_value(o); });
    return 0;
  });
  const auto request = scene.alice->next_message();
  REQUIRE(request);
  const std::string rid = request->topic.substr(request->topic.find("$rid=") + 5);
  // `$iothub/methods/res/...` is mallory's own topic: the hub reads it as mallory's answer, and
  // mallory has no call with that request id. It changes nothing.
  REQUIRE(mallory->publish("$iothub/methods/res/200/?$rid=" + rid, R"({"unlocked":true})", 1));
  REQUIRE(mallory->publish("$iothub/twin/GET/?$rid=fence", "", 1));  // answered after the forged answer was handled
  const auto fence = mallory->next_message();
  REQUIRE(fence);
  CHECK(fence->topic == "$iothub/twin/res/200/?$rid=fence");
  CHECK(outcome.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
  REQUIRE(scene.alice->publish("$iothub/methods/res/403/?$rid=" + rid, R"({"unlocked":false})", 0));
  REQUIRE(outcome.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  const auto o = outcome.get();
  REQUIRE(std::holds_alternative<core::method_result>(o));
  CHECK(json(std::get<core::method_result>(o)) == json{{"status", 403}, {"payload", {{"unlocked", false}}}});
  CHECK(mallory->connected());
}

// The broker re-checks a persistent session's filters while kicking it (mosquitto 2.0.11's
// check_subscription_acls); those checks once reached the hub as `$hub/sub` announcements of a
// connection it had already dropped (a deleted device), before the `$hub/disc`.
TEST_CASE("Security: a kicked persistent session announces only its disconnect to the hub", "[integration][security][acl]") {
  plugin_broker broker;
  hub_client hub(broker.port());
  auto dev1 = connect_device(broker.port(), "dev1", /*clean_session=*/false);
  const auto gen = hub.expect("$hub/conn/dev1").at("gen");
  REQUIRE(dev1->subscribe("$iothub/methods/POST/#", 1) == 1);
  REQUIRE(dev1->subscribe("devices/dev1/messages/devicebound/#", 1) == 1);
  hub.expect("$hub/sub/dev1");
  hub.expect("$hub/sub/dev1");
  hub.kick("dev1");
  CHECK(dev1->wait_disconnected());
  CHECK(hub.expect("$hub/disc/dev1") == json{{"gen", gen}});
  CHECK(hub.resync_next().at("connections") == json::array());  // and nothing else came before
}
