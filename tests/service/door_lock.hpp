// The tutorial's simulated door lock (simDevice.py) as a plain libmosquitto client speaking the
// IoT Hub MQTT protocol: it answers `lockDoor` on its own network thread and records the desired
// property patches it receives. Waits are bounded and woken by the client's own callbacks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct mosquitto;
struct mosquitto_message;

namespace mockhub::test {

class door_lock {
 public:
  struct options {
    std::string host_name;  // the hub's host name (SAS scope and MQTT username)
    std::uint16_t port = 0; // plain MQTT port on 127.0.0.1
    std::string device_id;
    std::string sas_token;  // the CONNECT password
    /// The status lockDoor answers with (the tutorial's device answers 200).
    int status = 200;
    nlohmann::json answer = {{"Response", "lockDoor called successfully"}};
    /// Records lockDoor requests but never answers them.
    bool silent = false;
  };

  /// Connects, subscribes to methods and desired patches, and returns once both SUBACKs came.
  /// Throws std::runtime_error when the hub refuses or does not answer within 10 s.
  explicit door_lock(options o);
  ~door_lock();
  door_lock(const door_lock&) = delete;
  door_lock& operator=(const door_lock&) = delete;

  /// Payloads of the lockDoor requests received (other method names are answered 404).
  std::vector<nlohmann::json> lock_requests();
  /// Waits until at least `n` lockDoor requests arrived (at most 10 s).
  bool wait_lock_requests(std::size_t n);
  /// Desired property patches received (with `$version`).
  std::vector<nlohmann::json> desired_patches();
  /// Waits until at least `n` desired patches arrived (at most 10 s).
  bool wait_desired_patches(std::size_t n);

 private:
  static void on_connect(mosquitto*, void* self, int rc);
  static void on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted);
  static void on_message(mosquitto*, void* self, const mosquitto_message* msg);

  options options_;
  mosquitto* mosq_ = nullptr;
  std::mutex mutex_;
  std::condition_variable changed_;
  int connack_ = -1;
  int subacks_ = 0;
  std::vector<nlohmann::json> lock_requests_;
  std::vector<nlohmann::json> desired_;
};

}  // namespace mockhub::test
