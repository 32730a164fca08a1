#include <catch2/catch.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_hub/broker_plugin/plugin_state.hpp"
#include "mock_hub/core/message_batch.hpp"
#include "mock_hub/core/sas_token.hpp"
#include "unit/broker_plugin/capture.hpp"

using namespace mockhub::broker_plugin;
using mockhub::core::sas_token;
using mockhub::testing::capture_host;
using mockhub::testing::capture_key;
using nlohmann::json;

namespace {

const std::string other_key = "YW5vdGhlciBrZXksIDMyIGJ5dGVzIGxvbmcuLi4uLi4=";
constexpr std::int64_t capture_se = 1795696880;  // the `se` of the capture's token
constexpr std::int64_t before_capture_se = 1767225600;  // 2026-01-01T00:00:00Z

/// The broker seam, recording what the plugin asks of it. `kick` behaves as mosquitto does: the
/// kicked client's DISCONNECT event runs before it returns (through `on_kick`).
struct fake_broker final : broker_api {
  struct message {
    std::string client_id, topic, payload;
    int qos;
  };
  std::vector<message> published;
  std::vector<std::string> kicked;
  std::vector<std::string> logs;
  std::function<void(std::string_view)> on_kick;
  mockhub::core::time_point wall{std::chrono::seconds(before_capture_se)};

  void publish_to(std::string_view client_id, std::string_view topic, std::string_view payload, int qos) override {
    published.push_back({std::string(client_id), std::string(topic), std::string(payload), qos});
  }
  bool kick_finds_client = true;  // what mosquitto_kick_client_by_clientid reports

  bool kick(std::string_view client_id) override {
    kicked.emplace_back(client_id);
    if (on_kick) on_kick(client_id);
    return kick_finds_client;
  }
  void log(log_level, std::string_view text) override { logs.emplace_back(text); }
  mockhub::core::time_point now() const override { return wall; }

  std::vector<std::string> topics() const {
    std::vector<std::string> t;
    for (const auto& m : published) t.push_back(m.topic);
    return t;
  }
  json payload(std::size_t i) const { return json::parse(published.at(i).payload); }
};

/// A message of a $hub/in or $hub/ctl/out batch.
struct frame {
  std::string client_id, topic, payload;
  bool operator==(const frame&) const = default;
};
std::vector<frame> frames_of(std::string_view batch) {
  std::vector<frame> out;
  REQUIRE(mockhub::core::message_batch::for_each(batch, [&out](const mockhub::core::message_batch::message& m) {
    out.push_back({std::string(m.client_id), std::string(m.topic), std::string(m.payload)});
  }));
  return out;
}

/// Client objects: only their addresses matter.
struct clients {
  int hub = 0, dev1 = 0, dev1_again = 0, dev2 = 0, other = 0;
};

std::string device_token(const std::string& device, const std::string& key, std::int64_t se = capture_se) {
  return sas_token::create(capture_host + "/devices/" + device, key, se);
}

connect_attempt device_connect(const void* handle, std::string_view client_id, const std::string& username,
                               const std::string& password) {
  static std::deque<std::string> keep;  // the attempt holds views (a deque never moves its strings)
  keep.push_back(username);
  const std::string& u = keep.back();
  keep.push_back(password);
  return connect_attempt{.handle = handle,
                         .client_id = client_id,
                         .username = u,
                         .password = keep.back(),
                         .address = "127.0.0.1",
                         .keepalive = 180,
                         .clean_session = false,
                         .protocol_version = 4};
}

std::string username_of(const std::string& device) { return capture_host + "/" + device + "/?api-version=2021-04-12"; }

/// A plugin with the hub logged in and a snapshot pushed: dev1 and dev2 (capture key primary,
/// other key secondary), disabled dev3, module dev1/mod-a, policies iothubowner (DeviceConnect)
/// and service (without).
struct fixture {
  fake_broker broker;
  clients c;
  plugin_state state{plugin_config{.hub_secret = "s3cret"}, broker};

  fixture() {
    broker.on_kick = [this](std::string_view id) {
      if (id == "dev1") state.on_disconnect(&c.dev1);
    };
    REQUIRE(state.on_basic_auth({.handle = &c.hub, .client_id = "hub-1", .username = "$mockhub", .password = "s3cret"}) ==
            auth_result::accepted);
    push(R"({"mode":"snapshot","host":"testhub.azure-devices.net",
      "devices":{"dev1":{"primary":")" + capture_key + R"(","secondary":")" + other_key + R"(","enabled":true},
                 "dev2":{"primary":")" + capture_key + R"(","secondary":")" + other_key + R"(","enabled":true},
                 "dev3":{"primary":")" + capture_key + R"(","secondary":")" + other_key + R"(","enabled":false},
                 "dev1/mod-a":{"primary":")" + capture_key + R"(","secondary":")" + other_key + R"("}},
      "policies":[{"name":"iothubowner","primary":")" + other_key + R"(","secondary":")" + capture_key + R"(","device_connect":true},
                  {"name":"service","primary":")" + capture_key + R"(","secondary":")" + other_key + R"(","device_connect":false}]})");
  }

  void push(const std::string& auth) {
    REQUIRE(state.on_acl_check(&c.hub, acl_access::write, "$hub/ctl/auth", 1) == acl_result::allowed);
    REQUIRE(state.on_message(&c.hub, "$hub/ctl/auth", auth, 1).what == message_result::action::drop);
  }
  auth_result connect(const void* handle, std::string_view client_id, const std::string& username,
                      const std::string& password) {
    return state.on_basic_auth(device_connect(handle, client_id, username, password));
  }
  auth_result connect_dev1(const void* handle) {
    return connect(handle, "dev1", username_of("dev1"), device_token("dev1", capture_key));
  }
};

}  // namespace

TEST_CASE("The plugin options need a hub secret; the hub username defaults to $mockhub", "[plugin]") {
  using opts = std::vector<std::pair<std::string_view, std::string_view>>;
  CHECK_THROWS_WITH(plugin_config::from_options(opts{}), Catch::Contains("plugin_opt_hub_secret is required"));
  CHECK_THROWS_WITH(plugin_config::from_options(opts{{"hub_secret", ""}}), Catch::Contains("required"));
  const auto config = plugin_config::from_options(opts{{"hub_secret", "x"}, {"unknown", "y"}});
  CHECK(config.hub_secret == "x");
  CHECK(config.hub_username == "$mockhub");
  CHECK(plugin_config::from_options(opts{{"hub_secret", "x"}, {"hub_username", "hub"}}).hub_username == "hub");
}

TEST_CASE("The hub logs in with its secret; devices wait for its snapshot", "[plugin]") {
  fake_broker broker;
  clients c;
  plugin_state state(plugin_config{.hub_secret = "s3cret"}, broker);
  const auto hub_login = [&](std::optional<std::string_view> password) {
    return state.on_basic_auth({.handle = &c.hub, .client_id = "hub-1", .username = "$mockhub", .password = password});
  };
  CHECK(hub_login("wrong") == auth_result::refused);
  CHECK(hub_login(std::nullopt) == auth_result::refused);
  CHECK(hub_login("s3cret!") == auth_result::refused);
  CHECK_FALSE(state.hub_connected());

  const auto capture = mockhub::testing::first_packet("connect");
  const auto replay = [&] {
    return state.on_basic_auth(device_connect(&c.dev1, "dev1", capture.at("username"), capture.at("password")));
  };
  CHECK(replay() == auth_result::unavailable);  // no hub: closed without CONNACK, retried
  CHECK(hub_login("s3cret") == auth_result::accepted);
  CHECK(state.hub_connected());
  CHECK(replay() == auth_result::unavailable);  // no snapshot yet
  CHECK_THAT(broker.logs.back(), Catch::Contains("the hub has not pushed credentials yet"));
  CHECK(broker.published.empty());
}

TEST_CASE("The capture's CONNECT is accepted and announced with its fields", "[plugin]") {
  fixture f;
  const auto capture = mockhub::testing::first_packet("connect");
  REQUIRE(f.connect(&f.c.dev1, "dev1", capture.at("username"), capture.at("password")) == auth_result::accepted);
  REQUIRE(f.broker.published.size() == 1);
  const auto& conn = f.broker.published[0];
  CHECK(conn.client_id == "hub-1");
  CHECK(conn.topic == "$hub/conn/dev1");
  CHECK(conn.qos == 1);
  const json expected = json::parse(R"j({"gen":1,"device":"dev1","module":null,
      "api_version":"2021-04-12","client_type":"azure-iot-device/1.18.4 (node v20.20.2; Debian 12; x64)",
      "model_id":null,"clean_session":false,"keepalive":180,"address":"127.0.0.1","protocol_version":4,
      "policy":null,"expires":1795696880})j");
  CHECK(json::parse(conn.payload) == expected);
}

TEST_CASE("Every bad CONNECT is refused", "[plugin]") {
  fixture f;
  const std::string good_token = device_token("dev1", capture_key);
  SECTION("an expired token (now >= se)") {
    f.broker.wall = mockhub::core::time_point(std::chrono::seconds(capture_se));
    CHECK(f.connect_dev1(&f.c.dev1) == auth_result::refused);
    CHECK_THAT(f.broker.logs.back(), Catch::Contains("expired"));
  }
  SECTION("a token signed with neither key") {
    CHECK(f.connect(&f.c.dev1, "dev1", username_of("dev1"), device_token("dev1", "a2V5") ) == auth_result::refused);
    CHECK_THAT(f.broker.logs.back(), Catch::Contains("signature does not match"));
  }
  SECTION("another device's token") {
    CHECK(f.connect(&f.c.dev1, "dev1", username_of("dev1"), device_token("dev2", capture_key)) == auth_result::refused);
    CHECK_THAT(f.broker.logs.back(), Catch::Contains("does not cover"));
  }
  SECTION("a token for another hub") {
    const auto token = sas_token::create("elsewhere.azure-devices.net/devices/dev1", capture_key, capture_se);
    CHECK(f.connect(&f.c.dev1, "dev1", username_of("dev1"), token) == auth_result::refused);
  }
  SECTION("a policy token whose policy lacks DeviceConnect") {
    const auto token = sas_token::create(capture_host + "/devices/dev1", capture_key, capture_se, "service");
    CHECK(f.connect(&f.c.dev1, "dev1", username_of("dev1"), token) == auth_result::refused);
    CHECK_THAT(f.broker.logs.back(), Catch::Contains("does not allow access for 'DeviceConnect'"));
  }
  SECTION("an unknown policy") {
    const auto token = sas_token::create(capture_host + "/devices/dev1", capture_key, capture_se, "nobody");
    CHECK(f.connect(&f.c.dev1, "dev1", username_of("dev1"), token) == auth_result::refused);
  }
  SECTION("a disabled identity") {
    CHECK(f.connect(&f.c.dev1, "dev3", username_of("dev3"), device_token("dev3", capture_key)) == auth_result::refused);
    CHECK_THAT(f.broker.logs.back(), Catch::Contains("disabled"));
  }
  SECTION("an unknown identity") {
    CHECK(f.connect(&f.c.dev1, "dev9", username_of("dev9"), device_token("dev9", capture_key)) == auth_result::refused);
    CHECK_THAT(f.broker.logs.back(), Catch::Contains("no such identity"));
  }
  SECTION("a client id that is not the username's device id") {
    CHECK(f.connect(&f.c.dev1, "dev2", username_of("dev1"), good_token) == auth_result::refused);
    CHECK_THAT(f.broker.logs.back(), Catch::Contains("the client id must be 'dev1'"));
  }
  SECTION("no username, a username that is no IoT Hub username, no password") {
    CHECK(f.state.on_basic_auth({.handle = &f.c.dev1, .client_id = "dev1", .password = good_token}) ==
          auth_result::refused);
    CHECK(f.connect(&f.c.dev1, "dev1", "dev1", good_token) == auth_result::refused);
    CHECK(f.state.on_basic_auth({.handle = &f.c.dev1, .client_id = "dev1", .username = username_of("dev1")}) ==
          auth_result::refused);
  }
  SECTION("the hub's username with a device token") {
    CHECK(f.connect(&f.c.dev1, "dev1", "$mockhub", good_token) == auth_result::refused);
  }
  SECTION("a device whose id is the hub's client id") {
    f.push(R"({"mode":"delta","devices":{"hub-1":{"primary":")" + capture_key + R"("}}})");
    CHECK(f.connect(&f.c.dev1, "hub-1", username_of("hub-1"), device_token("hub-1", capture_key)) ==
          auth_result::refused);
  }
  CHECK(f.state.connections().size() == 0);
  CHECK(f.broker.published.empty());
}

TEST_CASE("Either device key, a DeviceConnect policy and a module key are accepted", "[plugin]") {
  fixture f;
  CHECK(f.connect(&f.c.dev1, "dev1", username_of("dev1"), device_token("dev1", other_key)) == auth_result::accepted);
  const auto policy_token = sas_token::create(capture_host + "/devices/dev2", capture_key, capture_se, "iothubowner");
  CHECK(f.connect(&f.c.dev2, "dev2", username_of("dev2"), policy_token) == auth_result::accepted);
  CHECK(f.broker.payload(1).at("policy") == "iothubowner");
  const auto module_token = sas_token::create(capture_host + "/devices/dev1/modules/mod-a", capture_key, capture_se);
  CHECK(f.connect(&f.c.other, "dev1/mod-a", capture_host + "/dev1/mod-a/?api-version=2021-04-12", module_token) ==
        auth_result::accepted);
  CHECK(f.broker.published.back().topic == "$hub/conn/dev1%2Fmod-a");
  CHECK(f.broker.payload(2).at("module") == "mod-a");
  CHECK(f.broker.payload(2).at("device") == "dev1");
}

TEST_CASE("A hub-pinned clock judges expiry; null returns to the wall clock", "[plugin]") {
  fixture f;
  f.state.on_message(&f.c.hub, "$hub/ctl/clock", R"({"now":1795696880})", 1);
  CHECK(f.connect_dev1(&f.c.dev1) == auth_result::refused);
  f.state.on_message(&f.c.hub, "$hub/ctl/clock", R"({"now":1795696879})", 1);
  CHECK(f.connect_dev1(&f.c.dev1) == auth_result::accepted);
  f.broker.wall = mockhub::core::time_point(std::chrono::seconds(capture_se + 10));
  f.state.on_message(&f.c.hub, "$hub/ctl/clock", R"({"now":null})", 1);
  CHECK(f.connect_dev1(&f.c.dev1_again) == auth_result::refused);
  f.state.on_message(&f.c.hub, "$hub/ctl/clock", R"({"now":"soon"})", 1);
  CHECK_THAT(f.broker.logs.back(), Catch::Contains("ignored $hub/ctl/clock"));
}

TEST_CASE("A takeover announces the new connection before the old one's disconnect", "[plugin]") {
  fixture f;
  REQUIRE(f.connect_dev1(&f.c.dev1) == auth_result::accepted);
  REQUIRE(f.connect_dev1(&f.c.dev1_again) == auth_result::accepted);
  f.state.on_disconnect(&f.c.dev1);  // the broker drops the old connection after accepting the new
  f.state.on_disconnect(&f.c.dev1_again);
  CHECK(f.broker.topics() == std::vector<std::string>{"$hub/conn/dev1", "$hub/conn/dev1", "$hub/disc/dev1",
                                                      "$hub/disc/dev1"});
  CHECK(f.broker.payload(0).at("gen") == 1);
  CHECK(f.broker.payload(1).at("gen") == 2);
  CHECK(f.broker.payload(2) == json::parse(R"({"gen":1})"));
  CHECK(f.broker.payload(3) == json::parse(R"({"gen":2})"));
  f.state.on_disconnect(&f.c.other);  // refused at CONNECT: nothing to announce
  CHECK(f.broker.published.size() == 4);
}

TEST_CASE("The hub may use $hub/ only; it loses its rights when a newer hub logs in", "[plugin]") {
  fixture f;
  const auto hub = [&](acl_access a, const char* t) { return f.state.on_acl_check(&f.c.hub, a, t, 1); };
  CHECK(hub(acl_access::subscribe, "$hub/#") == acl_result::allowed);
  CHECK(hub(acl_access::unsubscribe, "$hub/#") == acl_result::allowed);
  CHECK(hub(acl_access::read, "$hub/in/dev1/devices/dev1/messages/events/") == acl_result::allowed);
  CHECK(hub(acl_access::write, "$hub/out/dev1/$iothub/twin/res/200/?$rid=1") == acl_result::allowed);
  CHECK(hub(acl_access::write, "$hub/ctl/resync") == acl_result::allowed);
  CHECK(hub(acl_access::write, "$hub/in/dev1/x") == acl_result::denied);
  CHECK(hub(acl_access::write, "$hub/conn/dev1") == acl_result::denied);
  CHECK(hub(acl_access::write, "$iothub/methods/POST/x/?$rid=1") == acl_result::denied);
  CHECK(hub(acl_access::subscribe, "#") == acl_result::denied);
  CHECK(hub(acl_access::read, "$iothub/twin/res/200/?$rid=1") == acl_result::denied);

  REQUIRE(f.state.on_basic_auth({.handle = &f.c.other, .client_id = "hub-2", .username = "$mockhub",
                                 .password = "s3cret"}) == auth_result::accepted);
  CHECK(hub(acl_access::write, "$hub/ctl/resync") == acl_result::denied);
  f.state.on_disconnect(&f.c.hub);  // the old hub leaving does not forget the credentials
  CHECK(f.state.credentials().ready());
  REQUIRE(f.connect_dev1(&f.c.dev1) == auth_result::accepted);
  CHECK(f.broker.published.back().client_id == "hub-2");
}

TEST_CASE("When the hub leaves, the credentials go and devices are turned away until it is back", "[plugin]") {
  fixture f;
  REQUIRE(f.connect_dev1(&f.c.dev1) == auth_result::accepted);
  f.state.on_disconnect(&f.c.hub);
  CHECK_FALSE(f.state.hub_connected());
  CHECK_FALSE(f.state.credentials().ready());
  CHECK(f.connect(&f.c.dev2, "dev2", username_of("dev2"), device_token("dev2", capture_key)) == auth_result::unavailable);
  CHECK(f.state.connections().size() == 1);  // dev1 stays connected
  f.state.on_disconnect(&f.c.dev1);          // with no hub, nothing is announced
  CHECK(f.broker.topics() == std::vector<std::string>{"$hub/conn/dev1"});
}

TEST_CASE("A device publishes its own topics; anything else or QoS 2 ends its connection", "[plugin]") {
  fixture f;
  REQUIRE(f.connect_dev1(&f.c.dev1) == auth_result::accepted);
  const auto write = [&](const char* topic, int qos = 1) {
    return f.state.on_acl_check(&f.c.dev1, acl_access::write, topic, qos);
  };
  CHECK(write("devices/dev1/messages/events/a=b") == acl_result::allowed);
  CHECK(write("$iothub/twin/GET/?$rid=1", 0) == acl_result::allowed);
  CHECK(write("devices/dev1/messages/events/", 2) == acl_result::qos_violation);
  CHECK(write("devices/dev2/messages/events/") == acl_result::violation);
  CHECK(write("$hub/in/dev1/devices/dev1/messages/events/") == acl_result::violation);
  CHECK(write("$hub/out/dev2/x") == acl_result::violation);
  CHECK(write("$hub/ctl/kick/dev2") == acl_result::violation);
  CHECK_THAT(f.broker.logs.back(), Catch::Contains("closing 'dev1'"));

  const auto before = f.broker.published.size();
  CHECK(f.state.on_message(&f.c.dev1, "devices/dev1/messages/events/a=b", "{}", 1).what == message_result::action::drop);
  CHECK(f.broker.published.size() == before);  // batched until the end of the broker's round
  f.state.on_tick();
  REQUIRE(f.broker.published.size() == before + 1);
  CHECK(f.broker.published.back().client_id == "hub-1");
  CHECK(f.broker.published.back().topic == "$hub/in");
  CHECK(f.broker.published.back().qos == 1);
  CHECK(frames_of(f.broker.published.back().payload) == std::vector<frame>{{"dev1", "devices/dev1/messages/events/a=b", "{}"}});
  f.state.on_tick();  // nothing left to send
  CHECK(f.broker.published.size() == before + 1);
  CHECK(f.state.on_acl_check(&f.c.other, acl_access::write, "devices/dev1/messages/events/", 1) ==
        acl_result::denied);  // not a connection the plugin accepted
}

TEST_CASE("Telemetry over 262144 bytes (payload and property bag) closes the connection", "[plugin]") {
  fixture f;
  REQUIRE(f.connect_dev1(&f.c.dev1) == auth_result::accepted);
  REQUIRE(f.connect(&f.c.dev2, "dev1/mod-a", capture_host + "/dev1/mod-a/?api-version=2021-04-12",
                    sas_token::create(capture_host + "/devices/dev1/modules/mod-a", capture_key, capture_se)) ==
          auth_result::accepted);
  const auto send = [&](const void* client, const std::string& topic, std::size_t payload_size) {
    return f.state.on_message(client, topic, std::string(payload_size, 'x'), 1).what;
  };
  f.broker.published.clear();
  CHECK(send(&f.c.dev1, "devices/dev1/messages/events/", 262'144) == message_result::action::drop);  // to the hub
  CHECK(send(&f.c.dev1, "devices/dev1/messages/events", 262'144) == message_result::action::drop);
  CHECK(send(&f.c.dev1, "devices/dev1/messages/events/", 262'145) == message_result::action::close);
  CHECK_THAT(f.broker.logs.back(), Catch::Contains("closing 'dev1': telemetry of 262145 bytes"));
  // The property bag counts: 3 bytes of "a=b".
  CHECK(send(&f.c.dev1, "devices/dev1/messages/events/a=b", 262'141) == message_result::action::drop);
  CHECK(send(&f.c.dev1, "devices/dev1/messages/events/a=b", 262'142) == message_result::action::close);
  // A module's telemetry too; other device topics are not telemetry (their own limits apply in the hub).
  CHECK(send(&f.c.dev2, "devices/dev1/modules/mod-a/messages/events/", 262'145) == message_result::action::close);
  CHECK(send(&f.c.dev1, "$iothub/twin/PATCH/properties/reported/?$rid=1", 262'145) ==
        message_result::action::drop);
  f.state.on_tick();
  // What went to the hub: the four accepted, in order (each one a full batch on its own).
  std::vector<std::pair<std::string, std::size_t>> to_hub;
  for (const auto& m : f.broker.published) {
    if (m.topic != "$hub/in") continue;
    for (const auto& fr : frames_of(m.payload)) to_hub.emplace_back(fr.topic, fr.payload.size());
  }
  CHECK(to_hub == std::vector<std::pair<std::string, std::size_t>>{{"devices/dev1/messages/events/", 262'144},
                                                                   {"devices/dev1/messages/events", 262'144},
                                                                   {"devices/dev1/messages/events/a=b", 262'141},
                                                                   {"$iothub/twin/PATCH/properties/reported/?$rid=1", 262'145}});
}

TEST_CASE("Device messages reach the hub in one batch per round, before the events that follow them", "[plugin]") {
  fixture f;
  REQUIRE(f.connect_dev1(&f.c.dev1) == auth_result::accepted);
  REQUIRE(f.state.on_acl_check(&f.c.dev1, acl_access::subscribe, "$iothub/methods/POST/#", 0) == acl_result::allowed);
  f.broker.published.clear();

  f.state.on_message(&f.c.dev1, "$iothub/methods/res/200/?$rid=1", "{\"ok\":1}", 0);
  f.state.on_message(&f.c.dev1, "$iothub/twin/GET/?$rid=2", "", 0);
  // An event flushes what came before it: the hub sees the answers, then the unsubscription.
  REQUIRE(f.state.on_acl_check(&f.c.dev1, acl_access::unsubscribe, "$iothub/methods/POST/#", 0) == acl_result::allowed);
  f.state.on_message(&f.c.dev1, "devices/dev1/messages/events/", "t", 1);
  f.state.on_disconnect(&f.c.dev1);
  REQUIRE(f.broker.topics() == std::vector<std::string>{"$hub/in", "$hub/unsub/dev1", "$hub/in", "$hub/disc/dev1"});
  CHECK(frames_of(f.broker.published[0].payload) == std::vector<frame>{{"dev1", "$iothub/methods/res/200/?$rid=1", "{\"ok\":1}"},
                                                                        {"dev1", "$iothub/twin/GET/?$rid=2", ""}});
  CHECK(frames_of(f.broker.published[2].payload) == std::vector<frame>{{"dev1", "devices/dev1/messages/events/", "t"}});

  // Without a hub nothing is batched: a publish waiting when the hub goes is dropped with it.
  REQUIRE(f.connect_dev1(&f.c.dev1_again) == auth_result::accepted);
  f.broker.published.clear();
  f.state.on_message(&f.c.dev1_again, "devices/dev1/messages/events/", "lost", 1);
  f.state.on_disconnect(&f.c.hub);
  f.state.on_tick();
  CHECK(f.broker.published.empty());
}

TEST_CASE("Subscriptions are checked, granted at most QoS 1 and announced", "[plugin]") {
  fixture f;
  REQUIRE(f.connect_dev1(&f.c.dev1) == auth_result::accepted);
  const auto subscribe = [&](const char* filter, int qos = 1) {
    return f.state.on_acl_check(&f.c.dev1, acl_access::subscribe, filter, qos);
  };
  CHECK(subscribe("$iothub/methods/POST/#", 0) == acl_result::allowed);
  CHECK(subscribe("$iothub/twin/res/#", 2) == acl_result::allowed);
  CHECK(subscribe("$iothub/twin/res/#", 1) == acl_result::allowed);  // again: replaces, announced again
  CHECK(f.state.on_acl_check(&f.c.dev1, acl_access::unsubscribe, "$iothub/methods/POST/#", 0) == acl_result::allowed);
  CHECK(f.state.on_acl_check(&f.c.dev1, acl_access::unsubscribe, "never/subscribed", 0) == acl_result::allowed);
  CHECK(f.broker.topics() ==
        std::vector<std::string>{"$hub/conn/dev1", "$hub/sub/dev1", "$hub/sub/dev1", "$hub/sub/dev1", "$hub/unsub/dev1"});
  CHECK(f.broker.payload(1) == json::parse(R"({"gen":1,"filter":"$iothub/methods/POST/#","qos":0})"));
  CHECK(f.broker.payload(2) == json::parse(R"({"gen":1,"filter":"$iothub/twin/res/#","qos":1})"));
  CHECK(f.broker.payload(4) == json::parse(R"({"gen":1,"filter":"$iothub/methods/POST/#"})"));

  CHECK(subscribe("#") == acl_result::violation);
  CHECK(subscribe("$hub/#") == acl_result::violation);
  CHECK(subscribe("devices/dev2/messages/devicebound/#") == acl_result::violation);
  CHECK(f.state.on_acl_check(&f.c.dev1, acl_access::unsubscribe, "$hub/#", 0) == acl_result::violation);
  CHECK(f.broker.published.size() == 5);
}

TEST_CASE("A device reads only its own topics", "[plugin]") {
  fixture f;
  REQUIRE(f.connect_dev1(&f.c.dev1) == auth_result::accepted);
  const auto read = [&](const char* topic) { return f.state.on_acl_check(&f.c.dev1, acl_access::read, topic, 1); };
  CHECK(read("$iothub/twin/res/200/?$rid=1") == acl_result::allowed);
  CHECK(read("devices/dev1/messages/devicebound/x=1") == acl_result::allowed);
  CHECK(read("devices/dev2/messages/devicebound/x=1") == acl_result::denied);
  CHECK(read("$hub/in/dev2/devices/dev2/messages/events/") == acl_result::denied);
}

TEST_CASE("The hub's $hub/out/ goes to one client; kick and resync act; all of it is dropped", "[plugin]") {
  fixture f;
  REQUIRE(f.connect_dev1(&f.c.dev1) == auth_result::accepted);
  REQUIRE(f.state.on_acl_check(&f.c.dev1, acl_access::subscribe, "$iothub/methods/POST/#", 0) == acl_result::allowed);
  f.broker.published.clear();

  CHECK(f.state.on_message(&f.c.hub, "$hub/out/dev1%2Fmod-a/$iothub/methods/POST/lockDoor/?$rid=42", "{}", 0).what ==
        message_result::action::drop);
  REQUIRE(f.broker.published.size() == 1);
  CHECK(f.broker.published[0].client_id == "dev1/mod-a");
  CHECK(f.broker.published[0].topic == "$iothub/methods/POST/lockDoor/?$rid=42");
  CHECK(f.broker.published[0].payload == "{}");
  CHECK(f.broker.published[0].qos == 0);

  f.state.on_message(&f.c.hub, "$hub/ctl/resync", "", 1);
  REQUIRE(f.broker.published.size() == 2);
  CHECK(f.broker.published[1].topic == "$hub/state");
  CHECK(f.broker.published[1].client_id == "hub-1");
  const json state = f.broker.payload(1);
  REQUIRE(state.at("connections").size() == 1);
  CHECK(state["connections"][0].at("id") == "dev1");
  CHECK(state["connections"][0].at("filters") == json::parse(R"([{"filter":"$iothub/methods/POST/#","qos":0}])"));

  f.state.on_message(&f.c.hub, "$hub/ctl/kick/dev1", "", 1);
  CHECK(f.broker.kicked == std::vector<std::string>{"dev1"});
  CHECK(f.broker.published.back().topic == "$hub/disc/dev1");
  CHECK(f.state.connections().size() == 0);

  f.state.on_message(&f.c.hub, "$hub/ctl/kick/hub-1", "", 1);  // never the hub itself
  CHECK(f.broker.kicked.size() == 1);

  const auto before = f.broker.published.size();
  f.state.on_message(&f.c.hub, "$hub/out/dev1/$hub/ctl/auth", "{}", 1);
  f.state.on_message(&f.c.hub, "$hub/out/%zz/x", "{}", 1);
  f.state.on_message(&f.c.hub, "$hub/ctl/nothing", "{}", 1);
  f.state.on_message(&f.c.hub, "$hub/ctl/auth", "{\"mode\":\"delta\",\"devices\":3}", 1);
  CHECK(f.broker.published.size() == before);
  CHECK_THAT(f.broker.logs.back(), Catch::Contains("'devices' is not an object"));
  CHECK(f.state.credentials().find("dev1") != nullptr);
}

TEST_CASE("The hub's $hub/ctl/out batch goes out message by message at QoS 0; a malformed batch delivers nothing",
          "[plugin]") {
  fixture f;
  REQUIRE(f.connect_dev1(&f.c.dev1) == auth_result::accepted);
  f.broker.published.clear();
  namespace batch = mockhub::core::message_batch;

  std::string b;
  REQUIRE(batch::append(b, {.client_id = "dev1/mod-a", .topic = "$iothub/methods/POST/lockDoor/?$rid=7", .payload = "{\"a\":1}"}));
  REQUIRE(batch::append(b, {.client_id = "dev2", .topic = "$iothub/twin/PATCH/properties/desired/?$version=3", .payload = ""}));
  REQUIRE(batch::append(b, {.client_id = "dev1/mod-a", .topic = "$hub/ctl/auth", .payload = "{}"}));  // refused alone
  CHECK(f.state.on_message(&f.c.hub, "$hub/ctl/out", b, 0).what == message_result::action::drop);
  REQUIRE(f.broker.published.size() == 2);
  CHECK(f.broker.published[0].client_id == "dev1/mod-a");
  CHECK(f.broker.published[0].topic == "$iothub/methods/POST/lockDoor/?$rid=7");
  CHECK(f.broker.published[0].payload == "{\"a\":1}");
  CHECK(f.broker.published[0].qos == 0);
  CHECK(f.broker.published[1].client_id == "dev2");
  CHECK(f.broker.published[1].topic == "$iothub/twin/PATCH/properties/desired/?$version=3");
  CHECK(f.broker.published[1].payload.empty());
  CHECK(f.broker.published[1].qos == 0);
  CHECK_THAT(f.broker.logs.back(), Catch::Contains("may not send $hub topics to 'dev1/mod-a'"));

  // Cut short by one byte: nothing of it goes out, and the log says why.
  f.broker.published.clear();
  f.state.on_message(&f.c.hub, "$hub/ctl/out", std::string_view(b).substr(0, b.size() - 1), 0);
  CHECK(f.broker.published.empty());
  CHECK_THAT(f.broker.logs.back(), Catch::Contains("ignored hub message on '$hub/ctl/out': a malformed batch (" +
                                                   std::to_string(b.size() - 1) + " bytes)"));
  // From a device, the topic is not the hub's to use: the ACL refuses it.
  CHECK(f.state.on_acl_check(&f.c.dev1, acl_access::write, "$hub/ctl/out", 0) == acl_result::violation);
}

TEST_CASE("Kicking a persistent session announces only its disconnect, not the broker's re-check of its filters",
          "[plugin]") {
  fixture f;
  REQUIRE(f.connect_dev1(&f.c.dev1) == auth_result::accepted);  // clean session 0
  REQUIRE(f.state.on_acl_check(&f.c.dev1, acl_access::subscribe, "$iothub/methods/POST/#", 1) == acl_result::allowed);
  REQUIRE(f.state.on_acl_check(&f.c.dev1, acl_access::subscribe, "devices/dev1/messages/devicebound/#", 1) ==
          acl_result::allowed);
  // mosquitto 2.0.11's kick (plugin_public.c disconnect_client): check_subscription_acls asks the
  // SUBSCRIBE ACL for each filter of a session that outlives the connection, then disconnects.
  std::vector<acl_result> rechecks;
  f.broker.on_kick = [&](std::string_view) {
    rechecks.push_back(f.state.on_acl_check(&f.c.dev1, acl_access::subscribe, "$iothub/methods/POST/#", 1));
    rechecks.push_back(f.state.on_acl_check(&f.c.dev1, acl_access::subscribe, "devices/dev1/messages/devicebound/#", 1));
    f.state.on_disconnect(&f.c.dev1);
  };
  f.broker.published.clear();
  f.state.on_message(&f.c.hub, "$hub/ctl/kick/dev1", "", 1);
  // Allowed, so the broker keeps the session's subscriptions (as the hub's session does).
  CHECK(rechecks == std::vector<acl_result>{acl_result::allowed, acl_result::allowed});
  CHECK(f.broker.topics() == std::vector<std::string>{"$hub/disc/dev1"});

  SECTION("the next connection of the device announces its subscriptions again") {
    REQUIRE(f.connect_dev1(&f.c.dev1_again) == auth_result::accepted);
    REQUIRE(f.state.on_acl_check(&f.c.dev1_again, acl_access::subscribe, "$iothub/methods/POST/#", 1) ==
            acl_result::allowed);
    CHECK(f.broker.topics() == std::vector<std::string>{"$hub/disc/dev1", "$hub/conn/dev1", "$hub/sub/dev1"});
  }
  SECTION("a kick the broker could not carry out leaves the connection announcing its subscriptions") {
    REQUIRE(f.connect_dev1(&f.c.dev1_again) == auth_result::accepted);
    f.broker.on_kick = nullptr;
    f.broker.kick_finds_client = false;
    f.state.on_message(&f.c.hub, "$hub/ctl/kick/dev1", "", 1);
    REQUIRE(f.state.on_acl_check(&f.c.dev1_again, acl_access::subscribe, "$iothub/twin/res/#", 0) == acl_result::allowed);
    CHECK(f.broker.topics().back() == "$hub/sub/dev1");
  }
}


TEST_CASE("A device publish whose topic no batch can carry is dropped and logged; the batch still goes", "[plugin]") {
  fixture f;
  REQUIRE(f.connect_dev1(&f.c.dev1) == auth_result::accepted);
  f.broker.published.clear();
  f.state.on_message(&f.c.dev1, "devices/dev1/messages/events/", "kept", 1);
  // Over 65,535 bytes, which MQTT itself does not allow: only reachable past the broker's checks.
  const std::string huge_topic = "devices/dev1/messages/events/" + std::string(65'536, 'a');
  CHECK(f.state.on_message(&f.c.dev1, huge_topic, "lost", 1).what == message_result::action::drop);
  CHECK_THAT(f.broker.logs.back(), Catch::Contains("dropped a publish of 'dev1' that cannot be framed for the hub"));
  f.state.on_tick();
  REQUIRE(f.broker.topics() == std::vector<std::string>{"$hub/in"});
  CHECK(frames_of(f.broker.published[0].payload) == std::vector<frame>{{"dev1", "devices/dev1/messages/events/", "kept"}});
}
