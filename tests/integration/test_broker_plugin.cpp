// The broker plugin inside a real mosquitto 2.0.11, driven by plain MQTT clients: one plays the
// hub ($hub/ topics), others play devices (some replaying the official Node SDK's bytes).
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugin_fixture.hpp"

using namespace mockhub::test;
using nlohmann::json;

namespace {

/// Proves that `device` received nothing so far: the hub sends it a marker, which must be the
/// next (and only the next) thing it receives. The broker keeps one client's messages in order.
void check_received_nothing(hub_client& hub, plugin_mqtt_client& device, const std::string& client_id) {
  hub.to_device(client_id, "$iothub/methods/POST/fence/?$rid=fence", "{}", 1);
  const auto next = device.next_message();
  REQUIRE(next);
  CHECK(next->topic == "$iothub/methods/POST/fence/?$rid=fence");
}

}  // namespace

TEST_CASE("The hub logs in only with its secret, and devices wait for its snapshot", "[integration][plugin]") {
  plugin_broker broker;
  const auto capture = device_capture().at(1);
  REQUIRE(capture.at("cmd") == "connect");
  const auto replay_connect = [&] {
    plugin_mqtt_client device("dev1");
    return device.connect(broker.port(), capture.at("username"), capture.at("password").get<std::string>());
  };

  CHECK(plugin_mqtt_client("hub").connect(broker.port(), "$mockhub", "wrong") == 5);
  CHECK(plugin_mqtt_client("hub").connect(broker.port(), "$mockhub", std::nullopt) == 5);
  CHECK(replay_connect() == -1);  // no hub: closed without a CONNACK (retryable, unlike 5)

  hub_client hub(broker.port(), "mockhub-hub", /*push_snapshot=*/false);
  hub.pin_clock(pinned_now);
  CHECK(replay_connect() == -1);  // no snapshot yet
  hub.push(standard_snapshot());
  CHECK(replay_connect() == 0);
  const json conn = hub.expect("$hub/conn/dev1");
  CHECK(conn.at("gen") == 1);
  CHECK(conn.at("device") == "dev1");
  CHECK(conn.at("api_version") == "2021-04-12");
  CHECK(conn.at("client_type") == "azure-iot-device/1.18.4 (node v20.20.2; Debian 12; x64)");
  CHECK(conn.at("expires") == capture_se);
  CHECK(conn.at("policy") == nullptr);
  CHECK(conn.at("address") == "127.0.0.1");
  CHECK(conn.at("protocol_version") == 4);
  CHECK(hub.expect("$hub/disc/dev1") == json{{"gen", 1}});
}

TEST_CASE("Replaying the Node SDK's session: announcements, rewritten publishes and directed replies",
          "[integration][plugin]") {
  plugin_broker broker;
  hub_client hub(broker.port());
  const auto packets = device_capture();

  plugin_mqtt_client device(packets.at(1).at("clientId"), packets.at(1).at("clean"));
  REQUIRE(device.connect(broker.port(), packets[1].at("username"), packets[1].at("password").get<std::string>(),
                         packets[1].at("keepalive")) == 0);
  const json conn = hub.expect("$hub/conn/dev1");
  const auto gen = conn.at("gen").get<std::uint64_t>();
  CHECK(conn.at("clean_session") == false);
  CHECK(conn.at("keepalive") == 180);

  int subscriptions = 0, publishes = 0, replies = 0;
  for (const auto& p : packets) {
    const std::string cmd = p.value("cmd", "");
    const std::string dir = p.value("dir", "");
    INFO("packet: " << p.dump());
    if (cmd == "subscribe") {
      for (const auto& s : p.at("subscriptions")) {
        const int qos = s.at("qos");
        CHECK(device.subscribe(s.at("topic"), qos) == qos);
        CHECK(hub.expect("$hub/sub/dev1") == json{{"gen", gen}, {"filter", s.at("topic")}, {"qos", qos}});
        ++subscriptions;
      }
    } else if (cmd == "publish" && dir == "device->broker") {
      const std::string topic = p.at("topic");
      REQUIRE(device.publish(topic, p.at("payload").get<std::string>(), p.at("qos")));
      CHECK(hub.expect_raw("$hub/in/dev1/" + topic) == p.at("payload"));
      ++publishes;
    } else if (cmd == "publish" && dir == "broker->device") {
      hub.to_device("dev1", p.at("topic"), p.at("payload"), p.at("qos"));
      const auto received = device.next_message();
      REQUIRE(received);
      CHECK(received->topic == p.at("topic"));
      CHECK(received->payload == p.at("payload"));
      CHECK(received->qos == p.at("qos"));
      ++replies;
    }
  }
  CHECK(subscriptions == 4);
  CHECK(publishes == 4);
  CHECK(replies == 5);

  CHECK(device.unsubscribe("$iothub/twin/res/#"));
  CHECK(hub.expect("$hub/unsub/dev1") == json{{"gen", gen}, {"filter", "$iothub/twin/res/#"}});
  device.disconnect();
  CHECK(hub.expect("$hub/disc/dev1") == json{{"gen", gen}});
}

TEST_CASE("Every refused CONNECT gets CONNACK 5 and is never announced", "[integration][plugin]") {
  plugin_broker broker;
  hub_client hub(broker.port());
  struct attempt {
    const char* why;
    std::string client_id;
    std::string username;
    std::optional<std::string> password;
  };
  const std::vector<attempt> attempts{
      {"a token signed with another key", "dev1", device_username("dev1"), device_token("dev1", "a2V5")},
      {"another device's token", "dev1", device_username("dev1"), device_token("dev2")},
      {"a policy token whose policy lacks DeviceConnect", "dev1", device_username("dev1"),
       device_token("dev1", capture_key, "service")},
      {"an unknown policy", "dev1", device_username("dev1"), device_token("dev1", capture_key, "nobody")},
      {"a disabled device", "dev3", device_username("dev3"), device_token("dev3")},
      {"an unknown device", "dev9", device_username("dev9"), device_token("dev9")},
      {"a client id that is not the device id", "dev2", device_username("dev1"), device_token("dev1")},
      {"no password", "dev1", device_username("dev1"), std::nullopt},
      {"a username that is no IoT Hub username", "dev1", "dev1", device_token("dev1")},
      {"the hub's username with a device token", "dev1", "$mockhub", device_token("dev1")},
      {"the hub's client id", "mockhub-hub", device_username("mockhub-hub"), device_token("mockhub-hub")},
  };
  for (const attempt& a : attempts) {
    INFO(a.why);
    plugin_mqtt_client device(a.client_id);
    CHECK(device.connect(broker.port(), a.username, a.password) == 5);
  }

  SECTION("an expired token: se has come") {
    hub.pin_clock(capture_se);
    plugin_mqtt_client device("dev1");
    CHECK(device.connect(broker.port(), device_username("dev1"), device_token("dev1")) == 5);
    hub.pin_clock(capture_se - 1);
    CHECK(connect_device(broker.port(), "dev1")->connected());
    CHECK(hub.expect("$hub/conn/dev1").at("gen") == 1);
    CHECK(hub.expect("$hub/disc/dev1") == json{{"gen", 1}});
  }
  SECTION("the wall clock, once the hub unpins it (the capture's se has passed)") {
    hub.send("$hub/ctl/clock", R"({"now":null})");
    plugin_mqtt_client device("dev1");
    const auto capture = device_capture().at(1);
    CHECK(device.connect(broker.port(), capture.at("username"), capture.at("password").get<std::string>()) == 5);
  }
  CHECK(hub.resync_next() == json::parse(R"({"connections":[]})"));
  CHECK_THAT(broker.log(), Catch::Contains("mockhub: refused CONNECT of client 'dev1'"));
}

TEST_CASE("The secondary key, a DeviceConnect policy token and a module's key are accepted",
          "[integration][plugin]") {
  plugin_broker broker;
  hub_client hub(broker.port());

  plugin_mqtt_client secondary("dev1");
  CHECK(secondary.connect(broker.port(), device_username("dev1"), device_token("dev1", other_key)) == 0);
  CHECK(hub.expect("$hub/conn/dev1").at("policy") == nullptr);

  plugin_mqtt_client by_policy("dev2");
  CHECK(by_policy.connect(broker.port(), device_username("dev2"), device_token("dev2", capture_key, "iothubowner")) == 0);
  CHECK(hub.expect("$hub/conn/dev2").at("policy") == "iothubowner");

  plugin_mqtt_client module("dev1/mod-a");
  const auto module_token =
      mockhub::core::sas_token::create(hub_host + "/devices/dev1/modules/mod-a", capture_key, capture_se);
  CHECK(module.connect(broker.port(), hub_host + "/dev1/mod-a/?api-version=2021-04-12", module_token) == 0);
  const json conn = hub.expect("$hub/conn/dev1%2Fmod-a");
  CHECK(conn.at("device") == "dev1");
  CHECK(conn.at("module") == "mod-a");
  REQUIRE(module.publish("devices/dev1/modules/mod-a/messages/events/", "m", 1));
  CHECK(hub.expect_raw("$hub/in/dev1%2Fmod-a/devices/dev1/modules/mod-a/messages/events/") == "m");
  hub.to_device("dev1/mod-a", "$iothub/methods/POST/m/?$rid=1", "{}", 0);
  REQUIRE(module.next_message());
}

TEST_CASE("A takeover announces the new connection before the old one's disconnect, with the old gen",
          "[integration][plugin]") {
  plugin_broker broker;
  hub_client hub(broker.port());
  auto first = connect_device(broker.port(), "dev1");
  const auto old_gen = hub.expect("$hub/conn/dev1").at("gen").get<std::uint64_t>();
  REQUIRE(first->subscribe("$iothub/methods/POST/#", 1) == 1);
  CHECK(hub.expect("$hub/sub/dev1").at("gen") == old_gen);

  auto second = connect_device(broker.port(), "dev1");
  const auto new_gen = hub.expect("$hub/conn/dev1").at("gen").get<std::uint64_t>();
  CHECK(new_gen > old_gen);
  CHECK(hub.expect("$hub/disc/dev1") == json{{"gen", old_gen}});
  CHECK(first->wait_disconnected());
  CHECK(second->connected());

  const json state = hub.resync();
  REQUIRE(state.at("connections").size() == 1);
  CHECK(state["connections"][0].at("gen") == new_gen);
  CHECK(state["connections"][0].at("filters") == json::array());  // a clean session starts with none

  second->disconnect();
  CHECK(hub.expect("$hub/disc/dev1") == json{{"gen", new_gen}});
}

TEST_CASE("$hub/out/ reaches exactly the one device it names, at the hub's QoS", "[integration][plugin]") {
  plugin_broker broker;
  hub_client hub(broker.port());
  auto dev1 = connect_device(broker.port(), "dev1");
  auto dev2 = connect_device(broker.port(), "dev2");
  for (auto* d : {dev1.get(), dev2.get()}) {
    REQUIRE(d->subscribe("$iothub/methods/POST/#", 1) == 1);
    REQUIRE(d->subscribe("$iothub/twin/res/#", 1) == 1);
  }

  hub.to_device("dev1", "$iothub/methods/POST/lockDoor/?$rid=42", R"({"door":"front"})", 0);
  hub.to_device("dev1", "devices/dev1/messages/devicebound/%24.mid=c2d-1&color=blue", "hello device", 1);
  auto method = dev1->next_message();
  REQUIRE(method);
  CHECK(method->topic == "$iothub/methods/POST/lockDoor/?$rid=42");
  CHECK(method->payload == R"({"door":"front"})");
  CHECK(method->qos == 0);
  auto c2d = dev1->next_message();  // delivered without a devicebound subscription: directed
  REQUIRE(c2d);
  CHECK(c2d->topic == "devices/dev1/messages/devicebound/%24.mid=c2d-1&color=blue");
  CHECK(c2d->qos == 1);

  check_received_nothing(hub, *dev2, "dev2");
  hub.to_device("nobody", "$iothub/methods/POST/x/?$rid=1", "{}", 1);  // no such client: dropped
  check_received_nothing(hub, *dev1, "dev1");
}

TEST_CASE("Devices never see each other's traffic", "[integration][plugin]") {
  plugin_broker broker;
  hub_client hub(broker.port());
  auto dev1 = connect_device(broker.port(), "dev1");
  auto dev2 = connect_device(broker.port(), "dev2");
  for (auto [d, id] : {std::pair{dev1.get(), "dev1"}, std::pair{dev2.get(), "dev2"}}) {
    for (const std::string filter : {"$iothub/methods/POST/#", "$iothub/twin/res/#",
                                     "$iothub/twin/PATCH/properties/desired/#"}) {
      REQUIRE(d->subscribe(filter, 1) == 1);
    }
    REQUIRE(d->subscribe("devices/" + std::string(id) + "/messages/devicebound/#", 1) == 1);
  }
  const std::vector<std::string> topics{"devices/dev1/messages/events/a=1", "$iothub/twin/GET/?$rid=1",
                                        "$iothub/twin/PATCH/properties/reported/?$rid=2",
                                        "$iothub/methods/res/200/?$rid=3"};
  for (const auto& t : topics) REQUIRE(dev1->publish(t, "x", 1));
  hub.resync();  // skip the announcements so far
  hub.to_device("dev1", "$iothub/twin/res/200/?$rid=1", "{}", 1);
  hub.to_device("dev1", "$iothub/twin/PATCH/properties/desired/?$version=2", R"({"$version":2})", 0);
  REQUIRE(dev1->next_message());
  REQUIRE(dev1->next_message());
  check_received_nothing(hub, *dev2, "dev2");
}

TEST_CASE("A kick ends the device's connection and the hub hears its disconnect", "[integration][plugin]") {
  plugin_broker broker;
  hub_client hub(broker.port());
  auto dev1 = connect_device(broker.port(), "dev1");
  auto dev2 = connect_device(broker.port(), "dev2");
  const auto gen1 = hub.expect("$hub/conn/dev1").at("gen");
  hub.expect("$hub/conn/dev2");
  hub.kick("dev1");
  CHECK(dev1->wait_disconnected());
  CHECK(hub.expect("$hub/disc/dev1") == json{{"gen", gen1}});
  hub.kick("nobody");
  hub.kick("mockhub-hub");  // never the hub itself
  CHECK(dev2->connected());
  CHECK(hub.resync().at("connections").size() == 1);
}

TEST_CASE("Resync answers with every connection and its filters", "[integration][plugin]") {
  plugin_broker broker;
  hub_client hub(broker.port());
  auto dev2 = connect_device(broker.port(), "dev2");
  auto dev1 = connect_device(broker.port(), "dev1");
  REQUIRE(dev1->subscribe("$iothub/twin/res/#", 0) == 0);
  REQUIRE(dev1->subscribe("devices/dev1/messages/devicebound/#", 1) == 1);
  const json state = hub.resync();
  REQUIRE(state.at("connections").size() == 2);
  const json& first = state["connections"][0];
  CHECK(first.at("id") == "dev2");
  CHECK(first.at("gen") == 1);
  CHECK(first.at("filters") == json::array());
  const json& second = state["connections"][1];
  CHECK(second.at("id") == "dev1");
  CHECK(second.at("gen") == 2);
  CHECK(second.at("device") == "dev1");
  CHECK(second.at("expires") == capture_se);
  CHECK(second.at("filters") == json::parse(R"([{"filter":"$iothub/twin/res/#","qos":0},
                                                {"filter":"devices/dev1/messages/devicebound/#","qos":1}])"));
}

TEST_CASE("Each protocol violation ends the device's connection", "[integration][plugin]") {
  plugin_broker broker;
  hub_client hub(broker.port());
  auto bystander = connect_device(broker.port(), "dev2");
  hub.expect("$hub/conn/dev2");

  enum class act { publish, subscribe, unsubscribe };
  struct violation {
    const char* what;
    act how;
    const char* topic;
    int qos;
  };
  const violation v = GENERATE(
      violation{"a QoS 2 publish", act::publish, "devices/dev1/messages/events/", 2},
      violation{"another device's telemetry", act::publish, "devices/dev2/messages/events/", 1},
      violation{"an unsupported topic", act::publish, "foo/bar", 1},
      violation{"a twin GET without $rid", act::publish, "$iothub/twin/GET/", 0},
      violation{"a method response with a bad status", act::publish, "$iothub/methods/res/ok/?$rid=1", 0},
      violation{"a publish under $hub/in", act::publish, "$hub/in/dev2/devices/dev2/messages/events/", 1},
      violation{"a publish under $hub/out", act::publish, "$hub/out/dev2/$iothub/methods/POST/x/?$rid=1", 1},
      violation{"a publish under $hub/ctl", act::publish, "$hub/ctl/kick/dev2", 1},
      violation{"a subscription to #", act::subscribe, "#", 1},
      violation{"a subscription to $hub/#", act::subscribe, "$hub/#", 1},
      violation{"a subscription to another device's C2D", act::subscribe, "devices/dev2/messages/devicebound/#", 1},
      violation{"a subscription to one method", act::subscribe, "$iothub/methods/POST/lockDoor", 1},
      violation{"a subscription to $SYS", act::subscribe, "$SYS/#", 0},
      violation{"an unsubscription under $hub/", act::unsubscribe, "$hub/#", 0});
  INFO(v.what);
  auto dev1 = connect_device(broker.port(), "dev1");
  const auto gen = hub.expect("$hub/conn/dev1").at("gen");
  switch (v.how) {
    case act::publish: dev1->publish_nowait(v.topic, "x", v.qos); break;
    case act::subscribe: CHECK_FALSE(dev1->subscribe(v.topic, v.qos)); break;  // no SUBACK: closed
    case act::unsubscribe: CHECK_FALSE(dev1->unsubscribe(v.topic)); break;     // no UNSUBACK: closed
  }
  CHECK(dev1->wait_disconnected());
  CHECK(hub.expect("$hub/disc/dev1") == json{{"gen", gen}});  // nothing reached the hub before it
  CHECK(bystander->connected());
  check_received_nothing(hub, *bystander, "dev2");
}

TEST_CASE("QoS 2: subscriptions are granted QoS 1 and a QoS 2 publish closes the connection",
          "[integration][plugin]") {
  SECTION("as the launcher runs the broker (max_qos 1): SUBACK says 1, as on IoT Hub") {
    plugin_broker broker;
    hub_client hub(broker.port());
    auto dev1 = connect_device(broker.port(), "dev1");
    const auto gen = hub.expect("$hub/conn/dev1").at("gen");
    CHECK(dev1->subscribe("$iothub/methods/POST/#", 2) == 1);
    CHECK(hub.expect("$hub/sub/dev1") == json{{"gen", gen}, {"filter", "$iothub/methods/POST/#"}, {"qos", 1}});
    hub.to_device("dev1", "$iothub/methods/POST/m/?$rid=1", "{}", 1);  // max_qos 1 holds for the hub too
    const auto delivered = dev1->next_message();
    REQUIRE(delivered);
    CHECK(delivered->qos == 1);
    dev1->publish_nowait("devices/dev1/messages/events/", "x", 2);
    CHECK(dev1->wait_disconnected());
    CHECK(hub.expect("$hub/disc/dev1") == json{{"gen", gen}});
    CHECK_THAT(broker.log(), Catch::Contains("Too high QoS in PUBLISH from dev1"));
  }
  SECTION("with max_qos 2 the plugin still closes a QoS 2 publisher; SUBACK then says 2") {
    plugin_broker broker(/*max_qos=*/2);
    hub_client hub(broker.port());
    auto dev1 = connect_device(broker.port(), "dev1");
    const auto gen = hub.expect("$hub/conn/dev1").at("gen");
    CHECK(dev1->subscribe("$iothub/methods/POST/#", 2) == 2);  // 2.0.11 offers no way to lower it from a plugin
    CHECK(hub.expect("$hub/sub/dev1").at("qos") == 1);         // what the hub is told it was granted
    dev1->publish_nowait("devices/dev1/messages/events/", "x", 2);
    CHECK(dev1->wait_disconnected());
    CHECK(hub.expect("$hub/disc/dev1") == json{{"gen", gen}});
    CHECK_THAT(broker.log(), Catch::Contains("mockhub: closing 'dev1': QoS 2 publish"));
  }
}

TEST_CASE("When the hub leaves, devices are refused until the next snapshot; connected ones stay",
          "[integration][plugin]") {
  plugin_broker broker;
  auto hub = std::make_unique<hub_client>(broker.port());
  auto dev1 = connect_device(broker.port(), "dev1");
  hub->client().disconnect();
  hub.reset();
  plugin_mqtt_client dev2("dev2");
  CHECK(dev2.connect(broker.port(), device_username("dev2"), device_token("dev2")) == -1);  // no CONNACK
  CHECK(dev1->connected());

  hub_client again(broker.port(), "mockhub-hub-2");
  const json state = again.resync();
  REQUIRE(state.at("connections").size() == 1);
  CHECK(state["connections"][0].at("id") == "dev1");
  CHECK(connect_device(broker.port(), "dev2")->connected());
}

TEST_CASE("A retained device publish is not stored; the hub gets it unretained", "[integration][plugin]") {
  plugin_broker broker;
  auto hub = std::make_unique<hub_client>(broker.port());
  auto dev1 = connect_device(broker.port(), "dev1");
  hub->expect("$hub/conn/dev1");
  REQUIRE(dev1->publish("devices/dev1/messages/events/", "kept?", 1, /*retain=*/true));
  CHECK(hub->expect_raw("$hub/in/dev1/devices/dev1/messages/events/") == "kept?");
  hub->client().disconnect();
  hub.reset();
  hub_client again(broker.port(), "mockhub-hub-2");
  CHECK(again.resync_next().at("connections").size() == 1);  // the first thing it gets: nothing was retained
}

TEST_CASE("A persistent session gets what the hub sent while it was offline", "[integration][plugin]") {
  plugin_broker broker;
  hub_client hub(broker.port());
  {
    auto dev1 = connect_device(broker.port(), "dev1", /*clean_session=*/false);
    REQUIRE(dev1->subscribe("devices/dev1/messages/devicebound/#", 1) == 1);
    dev1->disconnect();
  }
  hub.resync();
  hub.to_device("dev1", "devices/dev1/messages/devicebound/%24.mid=queued", "while away", 1);
  auto dev1 = connect_device(broker.port(), "dev1", /*clean_session=*/false);
  const auto queued = dev1->next_message();  // READ-checked when the session resumes: allowed
  REQUIRE(queued);
  CHECK(queued->topic == "devices/dev1/messages/devicebound/%24.mid=queued");
  CHECK(queued->payload == "while away");
}

TEST_CASE("A broker whose plugin has no hub_secret does not start", "[integration][plugin]") {
  temp_dir dir;
  mockhub::server::broker_launcher launcher(
      {.data_dir = dir.path(), .listen_ipv6 = false, .plugin = MOCKHUB_BROKER_PLUGIN});
  try {
    launcher.start();
    FAIL("the broker started");
  } catch (const mockhub::server::broker_launch_error& e) {
    CHECK(e.why() == mockhub::server::broker_launch_error::reason::broker_exited);
    CHECK_THAT(e.what(), Catch::Contains("plugin_opt_hub_secret is required"));
  }
}
