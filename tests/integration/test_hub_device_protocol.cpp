// The whole device path: a real mosquitto with the plugin, the broker link and the hub core
// (hub_runtime), driven by plain libmosquitto clients, so what is checked is the wire.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_hub/core/sas_token.hpp"
#include "mock_hub/server/hub_runtime.hpp"
#include "hub_device_fixture.hpp"
#include "plugin_mqtt_client.hpp"

using namespace mockhub;
using nlohmann::json;
using test::hub_fixture;
using test::plugin_mqtt_client;
using namespace std::chrono_literals;


TEST_CASE_METHOD(hub_fixture, "A device connects with its SAS token and the hub sees it connected and subscribed",
                 "[integration][hub]") {
  const auto key = create_device("dev1");
  auto d = device("dev1", key);
  CHECK(eventually([](core::hub& h) {
    return h.sessions().is_subscribed("dev1", core::device_subscription::cloud_to_device) &&
           h.registry().get_identity("dev1").connection == core::connection_state::connected;
  }));
  d->disconnect();
  CHECK(eventually([](core::hub& h) { return h.registry().get_identity("dev1").connection == core::connection_state::disconnected; }));
}

TEST_CASE_METHOD(hub_fixture, "Refused connections get CONNACK 5", "[integration][hub]") {
  const auto key = create_device("dev1");
  plugin_mqtt_client wrong_key("dev1");
  CHECK(wrong_key.connect(hub.mqtt_port(), username("dev1"), token("dev1", "YW5vdGhlciBrZXksIDMyIGJ5dGVzIGxvbmcuLi4uLi4=")) == 5);
  plugin_mqtt_client unknown("ghost");
  CHECK(unknown.connect(hub.mqtt_port(), username("ghost"), token("ghost", key)) == 5);
  hub.call([](core::hub& h) {
    h.create_or_update_identity("dev1", core::device_identity_request::from_json({{"status", "disabled"}}), "*");
    return 0;
  });
  REQUIRE(hub.wait_credentials_applied());
  plugin_mqtt_client disabled("dev1");
  CHECK(disabled.connect(hub.mqtt_port(), username("dev1"), token("dev1", key)) == 5);
}

TEST_CASE_METHOD(hub_fixture, "Twin GET and reported PATCH answer on the twin response topic", "[integration][hub]") {
  const auto key = create_device("dev1");
  auto d = device("dev1", key);
  REQUIRE(d->publish("$iothub/twin/GET/?$rid=1", "", 0));
  auto m = d->next_message();
  REQUIRE(m);
  CHECK(m->topic == "$iothub/twin/res/200/?$rid=1");
  CHECK(json::parse(m->payload) == json{{"desired", {{"$version", 1}}}, {"reported", {{"$version", 1}}}});

  REQUIRE(d->publish("$iothub/twin/PATCH/properties/reported/?$rid=2", R"({"firmware":"1.2.0"})", 0));
  m = d->next_message();
  REQUIRE(m);
  CHECK(m->topic == "$iothub/twin/res/204/?$rid=2&$version=2");
  CHECK(m->payload.empty());
  CHECK(hub.call([](core::hub& h) { return h.registry().get_twin("dev1")["properties"]["reported"]["firmware"]; }) == "1.2.0");

  SECTION("a refused patch answers 400 with the error, and the twin is unchanged") {
    REQUIRE(d->publish("$iothub/twin/PATCH/properties/reported/?$rid=3", R"({"bad.key":1})", 0));
    m = d->next_message();
    REQUIRE(m);
    CHECK(m->topic == "$iothub/twin/res/400/?$rid=3");
    CHECK(json::parse(m->payload)["errorCode"] == 400004);
    CHECK(hub.call([](core::hub& h) { return h.registry().get_twin("dev1")["properties"]["reported"]["$version"]; }) == 2);
  }
  SECTION("malformed JSON answers 400") {
    REQUIRE(d->publish("$iothub/twin/PATCH/properties/reported/?$rid=4", "{not json", 0));
    m = d->next_message();
    REQUIRE(m);
    CHECK(m->topic == "$iothub/twin/res/400/?$rid=4");
  }
}

TEST_CASE_METHOD(hub_fixture, "A desired change made by the back end reaches the connected device with its $version",
                 "[integration][hub]") {
  const auto key = create_device("dev1");
  auto d = device("dev1", key);
  REQUIRE(eventually([](core::hub& h) { return h.sessions().is_subscribed("dev1", core::device_subscription::desired_patches); }));
  hub.call([](core::hub& h) { return h.update_twin("dev1", {{"properties", {{"desired", {{"building", 43}, {"floor", 3}}}}}}, std::nullopt).twin.to_json()["version"]; });
  const auto m = d->next_message();
  REQUIRE(m);
  CHECK(m->topic == "$iothub/twin/PATCH/properties/desired/?$version=2");
  CHECK(json::parse(m->payload) == json{{"building", 43}, {"floor", 3}, {"$version", 2}});
}

TEST_CASE_METHOD(hub_fixture, "A direct method goes to the device and its answer comes back by request id",
                 "[integration][hub]") {
  const auto key = create_device("lock1");
  auto d = device("lock1", key);
  REQUIRE(eventually([](core::hub& h) { return h.sessions().is_subscribed("lock1", core::device_subscription::methods); }));
  std::promise<core::method_outcome> done;
  hub.call([&](core::hub& h) {
    h.invoke_device_method("lock1", core::method_request::from_json({{"methodName", "lockDoor"}, {"payload", {{"door", "front"}}}}),
                           [&](const core::method_outcome& o) { done.set_value(o); });
    return 0;
  });
  const auto m = d->next_message();
  REQUIRE(m);
  CHECK(m->topic.starts_with("$iothub/methods/POST/lockDoor/?$rid="));
  CHECK(json::parse(m->payload) == json{{"door", "front"}});
  const std::string rid = m->topic.substr(m->topic.find("$rid=") + 5);
  REQUIRE(d->publish("$iothub/methods/res/200/?$rid=" + rid, R"({"locked":true})", 0));
  auto f = done.get_future();
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  const auto outcome = f.get();
  REQUIRE(std::holds_alternative<core::method_result>(outcome));
  CHECK(json(std::get<core::method_result>(outcome)) == json{{"status", 200}, {"payload", {{"locked", true}}}});
}

TEST_CASE_METHOD(hub_fixture, "Messages batched for devices all arrive in order around one that cannot be batched",
                 "[integration][hub]") {
  // The link sends QoS 0 messages for devices in 256 KB batches ($hub/ctl/out). A method name
  // over 65,535 bytes makes a topic no batch (nor MQTT) can carry: it must not cost the batch
  // waiting before it, here 195 KB, which it would push over the size at which a batch is sent (256 KB).
  const auto key = create_device("lock1");
  auto d = device("lock1", key);
  REQUIRE(eventually([](core::hub& h) { return h.sessions().is_subscribed("lock1", core::device_subscription::methods); }));
  const auto request = [](const std::string& name, std::size_t payload_bytes) {
    return core::method_request::from_json({{"methodName", name}, {"payload", std::string(payload_bytes, 'p')}});
  };
  hub.call([&](core::hub& h) {  // one executor turn: one batch
    h.invoke_device_method("lock1", request("first", 125'000), [](const core::method_outcome&) {});
    h.invoke_device_method("lock1", request("second", 70'000), [](const core::method_outcome&) {});
    h.invoke_device_method("lock1", request(std::string(70'000, 'x'), 10), [](const core::method_outcome&) {});
    h.invoke_device_method("lock1", request("third", 10), [](const core::method_outcome&) {});
    return 0;
  });
  std::vector<std::string> names;
  for (int i = 0; i < 3; ++i) {
    const auto m = d->next_message();
    REQUIRE(m);
    const auto name = m->topic.substr(std::string_view("$iothub/methods/POST/").size());
    names.push_back(name.substr(0, name.find('/')));
  }
  CHECK(names == std::vector<std::string>{"first", "second", "third"});
}

TEST_CASE_METHOD(hub_fixture, "A flush sends the batched messages for devices before the executor's task ends",
                 "[integration][hub]") {
  // A job that starts its first devices while its query still runs flushes them
  // (device_channel::flush): they must reach the device while the executor is still busy.
  const auto key = create_device("lock1");
  auto d = device("lock1", key);
  REQUIRE(eventually([](core::hub& h) { return h.sessions().is_subscribed("lock1", core::device_subscription::methods); }));
  const auto received_in_task = hub.call([&](core::hub& h) {
    h.invoke_device_method("lock1", core::method_request::from_json({{"methodName", "early"}}), [](const core::method_outcome&) {});
    hub.link().flush();
    const auto m = d->next_message();  // the executor is still in this task
    return m ? m->topic.substr(0, m->topic.find("/?")) : std::string("nothing");
  });
  CHECK(received_in_task == "$iothub/methods/POST/early");
}

TEST_CASE_METHOD(hub_fixture, "A direct method without a payload reaches the device as the JSON text null",
                 "[integration][hub]") {
  // azure-iothub's default payload is null, and the official device SDKs JSON-parse any body (an
  // empty one fails the call in the Node SDK with 400 "Invalid request format").
  const auto key = create_device("lock1");
  auto d = device("lock1", key);
  REQUIRE(eventually([](core::hub& h) { return h.sessions().is_subscribed("lock1", core::device_subscription::methods); }));
  hub.call([&](core::hub& h) {
    h.invoke_device_method("lock1", core::method_request::from_json({{"methodName", "ping"}, {"payload", nullptr}}),
                           [](const core::method_outcome&) {});
    return 0;
  });
  const auto m = d->next_message();
  REQUIRE(m);
  CHECK(m->topic.starts_with("$iothub/methods/POST/ping/?$rid="));
  CHECK(m->payload == "null");
}

TEST_CASE_METHOD(hub_fixture, "Telemetry arrives with its property bag decoded", "[integration][hub]") {
  const auto key = create_device("dev1");
  auto d = device("dev1", key);
  // The official Node SDK's telemetry topic (sdk-captures/device-mqtt-packets.jsonl).
  REQUIRE(d->publish("devices/dev1/messages/events/%24.mid=msg-1&%24.ct=application%2Fjson&%24.ce=utf-8&alert=false",
                     R"({"temperature":21.5})", 1));
  REQUIRE(eventually([](core::hub& h) { return h.telemetry().messages("dev1").size() == 1; }));
  const auto msg = hub.call([](core::hub& h) { return h.telemetry().messages("dev1").front(); });
  CHECK(msg.body == R"({"temperature":21.5})");
  CHECK(msg.system.message_id == "msg-1");
  CHECK(msg.system.content_type == "application/json");
  CHECK(msg.application.at("alert") == "false");
}

TEST_CASE_METHOD(hub_fixture, "A cloud-to-device message queued while offline arrives with its properties on connect",
                 "[integration][hub]") {
  const auto key = create_device("dev1");
  hub.call([](core::hub& h) {
    core::cloud_to_device_message m;
    m.body = "unlock";
    m.message_id = "c2d-1";
    m.application["door"] = "front";
    h.send_cloud_to_device_message("dev1", m);
    return 0;
  });
  auto d = device("dev1", key);
  const auto m = d->next_message();
  REQUIRE(m);
  CHECK(m->topic.starts_with("devices/dev1/messages/devicebound/%24.mid=c2d-1&"));
  CHECK(m->topic.ends_with("&door=front"));
  CHECK(m->payload == "unlock");
  CHECK(m->qos == 1);
}

TEST_CASE_METHOD(hub_fixture, "Two devices never see each other's traffic", "[integration][hub]") {
  const auto k1 = create_device("dev1");
  const auto k2 = create_device("dev2");
  auto d1 = device("dev1", k1);
  auto d2 = device("dev2", k2);
  REQUIRE(d1->publish("$iothub/twin/GET/?$rid=a", "", 0));
  const auto m = d1->next_message();
  REQUIRE(m);
  CHECK(m->topic == "$iothub/twin/res/200/?$rid=a");
  REQUIRE(d2->publish("$iothub/twin/GET/?$rid=b", "", 0));
  const auto m2 = d2->next_message();
  REQUIRE(m2);
  CHECK(m2->topic == "$iothub/twin/res/200/?$rid=b");  // not dev1's answer
}

TEST_CASE_METHOD(hub_fixture, "After a broker restart the hub reconnects and its view of connections is right again",
                 "[integration][hub]") {
  const auto k1 = create_device("dev1");
  auto d = device("dev1", k1);
  REQUIRE(eventually([](core::hub& h) { return h.sessions().is_connected("dev1"); }));
  const auto ready_before = hub.link().ready_count();
  hub.broker().restart();
  REQUIRE(d->wait_disconnected());
  REQUIRE(eventually([&](core::hub& h) {
    return hub.link().ready_count() > ready_before && !h.sessions().is_connected("dev1");
  }));
  CHECK(hub.call([](core::hub& h) { return h.registry().get_identity("dev1").connection; }) == core::connection_state::disconnected);
  // The restarted broker learned the credentials again: the device can come back.
  auto again = device("dev1", k1);
  CHECK(eventually([](core::hub& h) { return h.sessions().is_subscribed("dev1", core::device_subscription::methods); }));
}
