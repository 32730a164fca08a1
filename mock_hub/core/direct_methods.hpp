// Direct methods (reference section 4): a back end calls a named method on a device and gets
// the device's status and JSON payload back, or one of the hub's own failures.
//
// - The device must be connected and subscribed to `$iothub/methods/POST/#`. With
//   connectTimeoutInSeconds 0 (the default) a device that is not fails at once with 404103;
//   otherwise the call waits that long for it.
// - Once sent, the device has responseTimeoutInSeconds (default 30) to answer, else 504101.
// - A device that disconnects with the call in flight fails it at once with 404103.
// - The device's status is its own (a 500 from the device is still a completed call).
// Timers run on the injected clock, so a virtual-clock test decides when time passes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "device_channel.hpp"
#include "device_sessions.hpp"
#include "errors.hpp"

namespace mockhub::core {

/// The `CloudToDeviceMethod` body of Devices_InvokeMethod and of method jobs.
struct method_request {
  static constexpr std::size_t max_payload_bytes = 128 * 1024;

  std::string method_name;
  nlohmann::json payload;  // null when absent
  int response_timeout_seconds = 30;
  int connect_timeout_seconds = 0;

  /// Reads and validates a wire body: methodName required (printable US-ASCII without
  /// `$ ( ) < > @ , ; : \ " / [ ] ? = { }`, space or tab), payload at most 128 KB serialised
  /// (413001), responseTimeoutInSeconds 5..300 (the obsolete `timeoutInSeconds` is read as it),
  /// connectTimeoutInSeconds 0..300. Other violations throw 400004 ArgumentInvalid naming the member.
  static method_request from_json(const nlohmann::json& body);
};

/// What the device answered: HTTP 200 carries it as {"status": ..., "payload": ...}.
struct method_result {
  int status = 0;
  nlohmann::json payload;
};
void to_json(nlohmann::json& j, const method_result& r);
void to_json(nlohmann::json& j, const method_request& r);

/// A method request as devices receive it: the payload serialised once. A method job sends the
/// same request to every device it selects, so it prepares it once and shares it among them
/// (copying and serialising the payload per device was a large share of the hub executor's time
/// in a 10,000-device job, bench B1).
struct prepared_method_request {
  std::string method_name;
  std::string payload_json;  // the payload as the device receives it: `null` when absent
  int response_timeout_seconds = 30;
  int connect_timeout_seconds = 0;

  static std::shared_ptr<const prepared_method_request> of(const method_request& request);
};

using method_outcome = std::variant<method_result, hub_error>;
/// Gets the outcome as an rvalue: a caller that keeps the answer (a job's device record) moves
/// its payload instead of copying the JSON tree. A callback taking `const method_outcome&` works too.
using method_callback = std::function<void(method_outcome&&)>;

class direct_methods {
 public:
  direct_methods(clock& clk, const device_sessions& sessions, device_channel& channel)
      : clock_(clk), sessions_(sessions), channel_(channel) {}
  direct_methods(const direct_methods&) = delete;
  direct_methods& operator=(const direct_methods&) = delete;

  /// Starts a call to a registered device; `done` runs exactly once, possibly before this returns.
  void invoke(std::string_view device_id, const method_request& request, method_callback done);
  /// The same with a prepared request, which calls to many devices share.
  void invoke(std::string_view device_id, std::shared_ptr<const prepared_method_request> request, method_callback done);

  /// The device is now connected and subscribed to methods: calls waiting for it are sent.
  void device_ready(std::string_view device_id);
  /// The device's connection ended: its sent calls fail with 404103.
  void device_gone(std::string_view device_id);
  /// The device's identity was deleted: every call for it fails with 404001.
  void device_deleted(std::string_view device_id);
  /// The device answered `request_id`. Returns false when no such call is in flight (late or unknown).
  bool device_responded(std::string_view device_id, std::string_view request_id, int status, std::string_view payload);

  std::size_t pending() const noexcept { return calls_.size(); }
  /// The request id ($rid) of the next call started, then counting up (1 by default; a call
  /// waiting for its device is sent with the id it got when it started). A restarted hub starts
  /// past every id its earlier runs used, so a late answer to one of them matches nothing.
  void set_next_request_id(std::uint64_t id) noexcept { next_key_ = id; }

 private:
  struct call {
    std::string device_id;
    std::shared_ptr<const prepared_method_request> request;
    method_callback done;
    std::string request_id;       // the key as text once sent; empty while waiting for the device
    clock::timer_id timer = 0;    // the connect timeout, while waiting for the device
    time_point deadline{};        // the response deadline, once sent
  };
  /// The keys of the device's calls that satisfy `pred`, in start order.
  template <class Pred>
  std::vector<std::uint64_t> keys_of(std::string_view device_id, Pred pred) const;
  void send(std::uint64_t key);
  void finish(std::uint64_t key, method_outcome outcome);
  void arm_deadline_timer();
  void deadline_passed();

  clock& clock_;
  const device_sessions& sessions_;
  device_channel& channel_;
  // By call key, which is also the number behind the call's `$rid`, so an answer finds its call
  // at once. Keys count up: sorted keys are the start order.
  std::unordered_map<std::uint64_t, call> calls_;
  // Sent calls by response deadline: one clock timer for the earliest instead of one per call
  // (a timer per call was a large share of the hub executor's time in a 10,000-device job).
  std::set<std::pair<time_point, std::uint64_t>> deadlines_;
  clock::timer_id deadline_timer_ = 0;
  time_point deadline_timer_due_{};
  std::uint64_t next_key_ = 1;
};

}  // namespace mockhub::core
