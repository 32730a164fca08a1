// A fleet fixture: which devices to simulate and how each behaves (docs/fleet-format.md).
// Parsing only; the simulator (simulator.hpp) runs it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mockhub::device::fleet {

/// A malformed fixture; `what()` names the JSON path (e.g. `behaviours.lock.methods.lockDoor.status`).
class fixture_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// A duration in milliseconds drawn from a distribution:
/// `50` or `{"constant": 50}`, `{"uniform": [10, 50]}`, `{"exponential": 40}` (mean),
/// `{"normal": [40, 10]}` (mean, standard deviation; clipped at 0).
struct distribution {
  enum class kind { constant, uniform, exponential, normal } shape = kind::constant;
  double a = 0, b = 0;

  std::chrono::milliseconds sample(std::mt19937_64& random) const;
  static distribution parse(const nlohmann::json& j, const std::string& path);
};

struct method_behaviour {
  int status = 200;
  nlohmann::json payload = nullptr;
  distribution latency{};       ///< before the answer
  double failure_rate = 0;      ///< chance of answering failure_status instead
  int failure_status = 500;
  nlohmann::json failure_payload = {{"message", "simulated failure"}};
  bool never_answers = false;   ///< the hub times out (504101)
  bool echo_payload = false;    ///< answer with the request's payload
  /// Reported properties the device sends before a successful answer (not after a failure
  /// draw), e.g. `{"lockState": "locked"}`; empty: none.
  nlohmann::json reports = nlohmann::json::object();
};

struct reported_behaviour {
  distribution every{};
  nlohmann::json patch = nlohmann::json::object();
  /// When set, each update also carries this property with a counter 1, 2, ...
  std::optional<std::string> counter_property{};
};

struct telemetry_behaviour {
  distribution every{};
  nlohmann::json body = nlohmann::json::object();
};

struct churn_behaviour {
  distribution connected_for{};
  distribution offline_for{};
};

struct behaviour {
  /// By method name; "*" answers the others. Without either: 501 (the client's default).
  std::map<std::string, method_behaviour> methods;
  std::optional<reported_behaviour> reported_updates;
  std::optional<telemetry_behaviour> telemetry;
  std::optional<churn_behaviour> churn;
  /// Report every desired change back as reported properties (the convention of "desired echo").
  bool desired_echo = false;
};

struct device_spec {
  std::string id;
  std::optional<std::string> key{};  ///< base64; else the simulator asks its key callback
  nlohmann::json tags = nlohmann::json::object();
  nlohmann::json reported = nlohmann::json::object();  ///< to seed (the caller's business)
  std::string behaviour{};  ///< a key of `behaviours` ("" : does nothing but stay connected)
};

struct fleet_fixture {
  std::uint64_t seed = 1;
  std::vector<device_spec> devices;
  std::map<std::string, behaviour> behaviours;

  /// Reads the JSON form; devices from `devices` then `groups` (expanded: prefix + zero-padded
  /// index). Throws fixture_error for unknown members, wrong types, duplicate ids, a device naming
  /// an unknown behaviour, rates outside [0, 1], statuses outside 100..599.
  static fleet_fixture parse(const nlohmann::json& j);
  static fleet_fixture load(const std::filesystem::path& file);

  const behaviour* behaviour_of(const device_spec& d) const;
};

/// What a method behaviour answers this time (the draw a simulated device makes).
struct method_decision {
  bool answer = true;
  bool failed = false;  ///< the failure_rate draw hit: failure_status is answered
  int status = 200;
  nlohmann::json payload = nullptr;
  std::chrono::milliseconds latency{0};
};
method_decision decide(const method_behaviour& b, const nlohmann::json& request_payload, std::mt19937_64& random);

}  // namespace mockhub::device::fleet
