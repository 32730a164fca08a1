// The hub's side of the broker contract (mock_hub/broker_plugin/README.md): a libmosquitto
// client that logs in as the hub, turns `$hub/...` events and rewritten device publishes into
// hub core calls on the hub's executor, and implements the core's device_channel by publishing
// `$hub/out/...` and `$hub/ctl/...`.
//
// Threads: libmosquitto's network thread receives; every core call is posted to the executor
// (`post`); device_channel methods are called on the executor and publish (libmosquitto's
// publish is thread-safe). After every (re)connect the link pushes a credential snapshot and
// asks the plugin for the live connections, so a broker restart heals itself.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_hub/core/device_channel.hpp"
#include "mock_hub/core/hub.hpp"
#include "mock_hub/trace/traffic_observer.hpp"

struct mosquitto;
struct mosquitto_message;

namespace mockhub::broker_link {

struct broker_link_options {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string username = "$mockhub";  // the plugin's `hub_username`
  std::string secret;                 // the plugin's `hub_secret`
  std::string client_id = "$mockhub-hub";
  int keepalive_seconds = 60;
  std::chrono::milliseconds reconnect_min{50};
  std::chrono::milliseconds reconnect_max{2000};
};

class broker_link final : public core::device_channel {
 public:
  using executor = std::function<void(std::function<void()>)>;

  /// `post` runs a task on the thread that owns the hub. Nothing happens until start().
  broker_link(broker_link_options options, executor post);
  ~broker_link() override;
  broker_link(const broker_link&) = delete;
  broker_link& operator=(const broker_link&) = delete;

  /// The hub the link drives; it is created with this link as its device channel, so it comes
  /// after the link. Required before start().
  void attach(core::hub& hub) noexcept { hub_ = &hub; }
  /// Tells `observer` (null: nobody) about every device event and publish the hub handles and
  /// every message it sends to a device. Set before start().
  void set_observer(trace::traffic_observer* observer) noexcept { observer_ = observer; }
  /// Connects in the background (and reconnects with backoff whenever the connection drops).
  void start();
  /// Disconnects and stops the network thread. Idempotent.
  void stop();
  /// Waits until the link is connected and has pushed its first credential snapshot (or, with
  /// `at_least` > 1, until it has become ready that many times: after a broker restart).
  bool wait_ready(std::chrono::milliseconds timeout, std::uint64_t at_least = 1);
  /// How many times the link has become ready (1 after the first connect; +1 per reconnect).
  std::uint64_t ready_count() const noexcept { return ready_count_.load(); }

  /// Waits until the plugin has applied every credential change pushed before this call (its
  /// PUBACK comes after the plugin handled the message), so a device created a moment ago can
  /// connect. Call it from outside the executor. False on timeout or while disconnected.
  bool wait_credentials_applied(std::chrono::milliseconds timeout);

  /// Tells the plugin to judge token expiry against `now` (virtual-clock hubs), or the wall clock.
  void push_clock(std::optional<core::time_point> now);

  // core::device_channel (called on the executor)
  void send_desired_patch(std::string_view device_id, const nlohmann::json& patch) override;
  void send_method_request(std::string_view device_id, std::string_view method_name, std::string_view request_id,
                           const nlohmann::json& payload) override;
  void send_serialized_method_request(std::string_view device_id, std::string_view method_name,
                                      std::string_view request_id, std::string_view payload_json) override;
  void send_cloud_to_device(std::string_view device_id, const core::cloud_to_device_message& message) override;
  void identity_changed(std::string_view device_id, const core::device_identity* identity) override;
  void flush() override { flush_batch(); }
  void disconnect(std::string_view device_id) override;

 private:
  static void on_connect(struct mosquitto*, void* self, int rc);
  static void on_disconnect(struct mosquitto*, void* self, int rc);
  static void on_message(struct mosquitto*, void* self, const struct mosquitto_message* msg);
  static void on_publish(struct mosquitto*, void* self, int mid);

  /// Queues work for the executor in arrival order: messages and connection events share one
  /// inbox, drained by one executor task per burst (a 10,000-device method job answers in bursts
  /// of hundreds; a task, a lock round and a wake-up per message was a large share of the link's
  /// and the executor's time in bench B1).
  void to_executor(std::string topic, std::string payload, std::function<void()> task);
  void drain_inbox();  // on the executor
  void handle(std::string topic, std::string payload);
  void handle_device_publish(const std::string& device_id, std::string_view topic, std::string payload);
  void push_snapshot();  // on the executor
  /// Publishes after the batched messages; returns the message id (0 when not sent).
  int publish(const std::string& topic, std::string_view payload, int qos);
  int publish_now(const std::string& topic, std::string_view payload, int qos);
  /// Adds a QoS 0 message for a device to the batch; false when it must go on its own.
  bool batch(std::string_view device_id, std::string_view topic, std::string_view payload);
  void flush_batch();
  void publish_credentials(const std::string& payload);
  void publish_to_device(std::string_view device_id, std::string_view topic, std::string_view payload, int qos);

  broker_link_options options_;
  core::hub* hub_ = nullptr;
  trace::traffic_observer* observer_ = nullptr;
  executor post_;
  struct mosquitto* mosq_ = nullptr;
  bool started_ = false;
  std::atomic<std::uint64_t> ready_count_{0};
  /// Connections to the broker so far (executor only): the high bits of the generation ids the
  /// hub sees, so that ids stay unique across broker restarts.
  std::uint64_t link_session_ = 0;
  std::mutex ready_mutex_;
  std::condition_variable ready_cv_;
  // Credential pushes not yet acknowledged: mid -> sequence number.
  std::mutex auth_mutex_;
  std::condition_variable auth_cv_;
  std::map<int, std::uint64_t> auth_pending_;
  std::uint64_t auth_sequence_ = 0;
  std::deque<int> recent_acks_;  // acknowledgements of other publishes, newest last
  struct inbox_entry {
    std::string topic;  // a message, when `task` is empty
    std::string payload;
    std::function<void()> task;
  };
  std::mutex inbox_mutex_;
  std::vector<inbox_entry> inbox_;  // a drain task is posted whenever it becomes non-empty
  static constexpr std::string_view out_batch_topic = "$hub/ctl/out";
  std::mutex batch_mutex_;
  std::string batch_;  // framed by core/message_batch.hpp
  bool flush_posted_ = false;
  std::mutex clock_mutex_;
  std::string clock_payload_;  // the last $hub/ctl/clock pushed, empty for the wall clock
};

/// The JSON the plugin's credential store takes for one identity (null when deleted).
nlohmann::json device_credentials(const core::device_identity* identity);

}  // namespace mockhub::broker_link
