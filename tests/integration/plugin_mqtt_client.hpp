// A libmosquitto MQTT 3.1.1 client for the broker plugin's integration tests, playing a device or
// the hub: username and password, clean or persistent session, the QoS granted in SUBACK, and
// the moment the broker closes the connection. Every wait is on the client's own callbacks
// (condition variable, bounded), never a sleep. It never reconnects on its own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

struct mosquitto;
struct mosquitto_message;

namespace mockhub::test {

class plugin_mqtt_client {
 public:
  static constexpr std::chrono::seconds patience{10};

  struct message {
    std::string topic;
    std::string payload;
    int qos = 0;
    bool retain = false;
  };

  explicit plugin_mqtt_client(const std::string& client_id, bool clean_session = true);
  plugin_mqtt_client(const plugin_mqtt_client&) = delete;
  plugin_mqtt_client& operator=(const plugin_mqtt_client&) = delete;
  ~plugin_mqtt_client();

  /// Connects to 127.0.0.1:`port` and waits for the CONNACK: its return code (0 accepted,
  /// 5 not authorized), or -1 when the connection closed without one.
  int connect(int port, const std::string& username, const std::optional<std::string>& password,
              int keepalive = 60);
  /// Subscribes and waits for the SUBACK: the granted QoS (0x80 = refused), or nullopt when the
  /// connection closed first.
  std::optional<int> subscribe(const std::string& filter, int qos);
  /// Unsubscribes; true once the UNSUBACK arrived.
  bool unsubscribe(const std::string& filter);
  /// Publishes; true once sent (QoS 0) or acknowledged (QoS 1 PUBACK, QoS 2 PUBCOMP).
  bool publish(const std::string& topic, std::string_view payload, int qos, bool retain = false);
  /// Sends a PUBLISH without waiting for anything.
  void publish_nowait(const std::string& topic, std::string_view payload, int qos);

  /// The next message received, waiting at most `patience`.
  std::optional<message> next_message();
  /// True once the connection has ended (waiting at most `patience`).
  bool wait_disconnected();
  bool connected();
  /// Disconnects cleanly (DISCONNECT packet) and waits until the connection is closed.
  void disconnect();

 private:
  static void on_connect(mosquitto*, void* self, int rc);
  static void on_disconnect(mosquitto*, void* self, int rc);
  static void on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted);
  static void on_unsubscribe(mosquitto*, void* self, int mid);
  static void on_publish(mosquitto*, void* self, int mid);
  static void on_message(mosquitto*, void* self, const mosquitto_message* msg);
  void stop_loop();

  mosquitto* mosq_ = nullptr;
  bool loop_started_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<int> connack_;
  bool closed_ = false;
  std::map<int, int> subacks_;  // mid -> granted QoS
  std::set<int> unsubacks_;
  std::set<int> pubacks_;
  std::deque<message> messages_;
};

}  // namespace mockhub::test
