// Fixture of the broker plugin's integration tests: a real mosquitto with the plugin on an
// ephemeral loopback port (through the broker launcher), a client playing the hub, and helpers
// for device clients and tokens. The keys are the capture's (sdk-captures/README.md).
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <deque>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_hub/broker_plugin/hub_topics.hpp"
#include "mock_hub/core/message_batch.hpp"
#include "mock_hub/core/sas_token.hpp"
#include "mock_hub/server/broker_launcher.hpp"
#include "plugin_mqtt_client.hpp"
#include "temp_dir.hpp"

namespace mockhub::test {

inline const std::string plugin_hub_secret = "integration-s3cret";
/// base64 of "0123456789abcdef0123456789abcdef": the capture's device and iothubowner key.
inline const std::string capture_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
inline const std::string other_key = "YW5vdGhlciBrZXksIDMyIGJ5dGVzIGxvbmcuLi4uLi4=";
inline const std::string hub_host = "testhub.azure-devices.net";
/// The `se` of the capture's token: 2026-11-26T12:41:20Z, in the past by now, so the hub pins
/// the plugin's clock before it (README: $hub/ctl/clock).
inline constexpr std::int64_t capture_se = 1795696880;
inline constexpr std::int64_t pinned_now = 1767225600;  // 2026-01-01T00:00:00Z

/// dev1, dev2 (capture key primary, other key secondary), disabled dev3, module dev1/mod-a;
/// iothubowner (DeviceConnect, other key primary, capture key secondary), service (no DeviceConnect).
inline nlohmann::json standard_snapshot() {
  const nlohmann::json keys = {{"primary", capture_key}, {"secondary", other_key}};
  nlohmann::json disabled = keys;
  disabled["enabled"] = false;
  return {{"mode", "snapshot"},
          {"host", hub_host},
          {"devices", {{"dev1", keys}, {"dev2", keys}, {"dev3", disabled}, {"dev1/mod-a", keys}}},
          {"policies",
           {{{"name", "iothubowner"}, {"primary", other_key}, {"secondary", capture_key}, {"device_connect", true}},
            {{"name", "service"}, {"primary", capture_key}, {"secondary", other_key}, {"device_connect", false}}}}};
}

inline std::string device_username(const std::string& client_id) {
  return hub_host + "/" + client_id + "/?api-version=2021-04-12";
}
inline std::string device_token(const std::string& device_id, const std::string& key = capture_key,
                                const std::string& policy = {}) {
  return core::sas_token::create(hub_host + "/devices/" + device_id, key, capture_se, policy);
}

/// Every packet of the Node SDK's recorded session.
inline std::vector<nlohmann::json> device_capture() {
  std::ifstream in(std::string(MOCKHUB_SHARED_DIR) + "/reference/sdk-captures/device-mqtt-packets.jsonl");
  REQUIRE(in.good());
  std::vector<nlohmann::json> packets;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) packets.push_back(nlohmann::json::parse(line));
  }
  return packets;
}

/// mosquitto with the plugin on 127.0.0.1:<ephemeral>; stopped at the end of scope.
struct plugin_broker {
  temp_dir dir;
  server::broker_launcher launcher;

  explicit plugin_broker(std::uint8_t max_qos = 1)
      : launcher({.data_dir = dir.path(),
                  .listen_ipv6 = false,
                  .plugin = MOCKHUB_BROKER_PLUGIN,
                  .plugin_options = {{"hub_secret", plugin_hub_secret}},
                  .max_qos = max_qos}) {
    launcher.start();
  }
  int port() const { return launcher.mqtt_port(); }
  std::string log() const { return launcher.log_tail(64 * 1024); }
};

/// A client playing the hub: logs in with the secret, subscribes to $hub/#, pushes the standard
/// snapshot and pins the clock before the capture's `se`.
class hub_client {
 public:
  explicit hub_client(int port, const std::string& client_id = "mockhub-hub", bool push_snapshot = true)
      : client_(client_id) {
    REQUIRE(client_.connect(port, "$mockhub", plugin_hub_secret) == 0);
    REQUIRE(client_.subscribe(std::string(broker_plugin::hub_topics::all), 1) == 1);
    if (push_snapshot) {
      pin_clock(pinned_now);
      push(standard_snapshot());
    }
  }

  /// Publishes on $hub/ctl/... or $hub/out/... at QoS 1; the PUBACK comes after the plugin acted.
  void send(const std::string& topic, const std::string& payload, int qos = 1) {
    REQUIRE(client_.publish(topic, payload, qos));
  }
  void push(const nlohmann::json& auth) { send(std::string(broker_plugin::hub_topics::auth), auth.dump()); }
  void pin_clock(std::int64_t now) {
    send(std::string(broker_plugin::hub_topics::clock), nlohmann::json{{"now", now}}.dump());
  }
  void kick(const std::string& client_id) { send(broker_plugin::hub_topics::kick(client_id), ""); }
  void to_device(const std::string& client_id, const std::string& topic, const std::string& payload, int qos) {
    send(broker_plugin::hub_topics::out(client_id, topic), payload, qos);
  }

  /// The next message the hub receives. The plugin sends devices' messages in `$hub/in` batches:
  /// each message of a batch is returned on its own, as if on `$hub/in/{id}/{topic}`.
  std::optional<plugin_mqtt_client::message> next_message() {
    while (batched_.empty()) {
      auto m = client_.next_message();
      if (!m || m->topic != broker_plugin::hub_topics::in_batch) return m;
      CHECK(m->qos == 1);
      REQUIRE(core::message_batch::for_each(m->payload, [&](const core::message_batch::message& b) {
        batched_.push_back({broker_plugin::hub_topics::in(b.client_id, b.topic), std::string(b.payload), m->qos, m->retain});
      }));
    }
    auto m = std::move(batched_.front());
    batched_.pop_front();
    return m;
  }

  /// The next message the hub receives; it must be on `topic`. Returns its payload.
  std::string expect_raw(const std::string& topic) {
    const auto m = next_message();
    REQUIRE(m);
    REQUIRE(m->topic == topic);
    CHECK_FALSE(m->retain);
    return m->payload;
  }
  nlohmann::json expect(const std::string& topic) { return nlohmann::json::parse(expect_raw(topic)); }
  /// Asks for $hub/state and returns it, skipping what the plugin announced before it.
  nlohmann::json resync() {
    send(std::string(broker_plugin::hub_topics::resync), "");
    for (;;) {
      const auto m = next_message();
      REQUIRE(m);
      if (m->topic == broker_plugin::hub_topics::state) return nlohmann::json::parse(m->payload);
    }
  }
  /// Asks for $hub/state, which must be the next thing the hub receives (so nothing else came
  /// before it: the plugin's messages to the hub keep their order).
  nlohmann::json resync_next() {
    send(std::string(broker_plugin::hub_topics::resync), "");
    return expect(std::string(broker_plugin::hub_topics::state));
  }

  plugin_mqtt_client& client() { return client_; }

 private:
  plugin_mqtt_client client_;
  std::deque<plugin_mqtt_client::message> batched_;  // the rest of the last $hub/in batch
};

/// A device connected with its own key (CONNACK 0 required).
inline std::unique_ptr<plugin_mqtt_client> connect_device(int port, const std::string& client_id,
                                                          bool clean_session = true) {
  auto device = std::make_unique<plugin_mqtt_client>(client_id, clean_session);
  REQUIRE(device->connect(port, device_username(client_id), device_token(client_id)) == 0);
  return device;
}

}  // namespace mockhub::test
