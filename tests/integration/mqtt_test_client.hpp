// A libmosquitto client for integration tests: blocking calls that wait on the client's own
// callbacks (condition variable, bounded), never on sleeps.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

struct mosquitto;
struct mosquitto_message;

namespace mockhub::test {

class mqtt_test_client {
 public:
  struct message {
    std::string topic;
    std::string payload;
    int qos = 0;
  };

  explicit mqtt_test_client(const std::string& client_id);
  mqtt_test_client(const mqtt_test_client&) = delete;
  mqtt_test_client& operator=(const mqtt_test_client&) = delete;
  ~mqtt_test_client();

  /// Verify the server against `cafile` and the host name given to connect().
  void use_tls(const std::string& cafile);

  /// Connects and waits for the CONNACK. Returns the MQTT CONNACK code (0 = accepted), or a
  /// negative libmosquitto error (-MOSQ_ERR_*) when the TCP/TLS connection fails before it
  /// (libmosquitto 2.0 finishes the TLS handshake in its network loop, so a refused
  /// certificate shows up as a disconnect).
  int connect(const std::string& host, int port, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  /// Subscribes and waits for the SUBACK; true when granted.
  bool subscribe(const std::string& filter, int qos, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  /// Publishes; at QoS 1 waits for the PUBACK. True when sent (and acknowledged).
  bool publish(const std::string& topic, const std::string& payload, int qos,
               std::chrono::milliseconds timeout = std::chrono::seconds(30));
  /// The next received message, waiting at most `timeout`.
  std::optional<message> next_message(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  static void on_connect(mosquitto*, void* self, int rc);
  static void on_disconnect(mosquitto*, void* self, int rc);
  static void on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted);
  static void on_publish(mosquitto*, void* self, int mid);
  static void on_message(mosquitto*, void* self, const mosquitto_message* msg);

  mosquitto* mosq_ = nullptr;
  bool loop_started_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<int> connack_;
  std::optional<int> disconnect_;
  std::deque<std::pair<int, bool>> subacks_;  // mid, granted
  std::deque<int> pubacks_;
  std::deque<message> messages_;
};

}  // namespace mockhub::test
