// An in-process hub for REST tests: the hub core on a hub_executor with a virtual clock, a fake
// device channel whose devices answer direct methods as told, the rest_server on an ephemeral
// loopback port, and helpers that call it with httplib::Client and a fresh SAS token.
#pragma once

#include <catch2/catch.hpp>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_hub/core/hub.hpp"
#include "mock_hub/core/sas_token.hpp"
#include "mock_hub/rest/rest_server.hpp"
#include "mock_hub/server/hub_executor.hpp"

namespace mockhub::test {

/// Devices as the hub sees them through its channel: each connected device may answer direct
/// methods with a fixed status and payload (through a clock timer due at once, so the answer
/// arrives on the executor right after the request, and `advance(0s)` settles it); a device with
/// no answer stays silent. Every request is recorded and can be waited for.
class fake_devices final : public core::device_channel {
 public:
  struct answer {
    int status = 200;
    std::string payload = "{}";
  };
  struct method_call {
    std::string device_id;
    std::string method_name;
    std::string request_id;
    nlohmann::json payload;
  };

  explicit fake_devices(core::clock& clk) : clock_(clk) {}
  void attach(core::hub& h) { hub_ = &h; }

  void answer_with(const std::string& device_id, answer a) {
    std::lock_guard lock(mutex_);
    answers_[device_id] = std::move(a);
  }
  void stay_silent(const std::string& device_id) {
    std::lock_guard lock(mutex_);
    answers_.erase(device_id);
  }
  /// Waits (bounded) until at least `n` method requests have been sent; returns them.
  std::vector<method_call> wait_for_calls(std::size_t n, std::chrono::seconds bound = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, bound, [&] { return calls_.size() >= n; });
    return calls_;
  }
  std::vector<nlohmann::json> desired_patches() {
    std::lock_guard lock(mutex_);
    return desired_;
  }

  void send_desired_patch(std::string_view, const nlohmann::json& patch) override {
    std::lock_guard lock(mutex_);
    desired_.push_back(patch);
  }
  void send_method_request(std::string_view device_id, std::string_view method_name, std::string_view request_id,
                           const nlohmann::json& payload) override {
    std::optional<answer> a;
    {
      std::lock_guard lock(mutex_);
      calls_.push_back({std::string(device_id), std::string(method_name), std::string(request_id), payload});
      if (const auto it = answers_.find(std::string(device_id)); it != answers_.end()) a = it->second;
    }
    changed_.notify_all();
    if (a) {
      clock_.call_after(std::chrono::seconds(0), [this, d = std::string(device_id), rid = std::string(request_id), a] {
        hub_->device_method_response(d, rid, a->status, a->payload);
      });
    }
  }
  void send_cloud_to_device(std::string_view device_id, const core::cloud_to_device_message& m) override {
    std::lock_guard lock(mutex_);
    cloud_to_device_.emplace_back(std::string(device_id), m);
  }
  void identity_changed(std::string_view, const core::device_identity*) override {}
  void disconnect(std::string_view device_id) override {
    std::lock_guard lock(mutex_);
    disconnects_.emplace_back(device_id);
  }
  /// Devices the hub asked to disconnect, in order.
  std::vector<std::string> disconnects() {
    std::lock_guard lock(mutex_);
    return disconnects_;
  }
  /// Cloud-to-device messages handed to devices (subscribed to their devicebound topic), in order.
  std::vector<std::pair<std::string, core::cloud_to_device_message>> cloud_to_device() {
    std::lock_guard lock(mutex_);
    return cloud_to_device_;
  }

 private:
  core::clock& clock_;
  core::hub* hub_ = nullptr;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, answer> answers_;
  std::vector<method_call> calls_;
  std::vector<nlohmann::json> desired_;
  std::vector<std::string> disconnects_;
  std::vector<std::pair<std::string, core::cloud_to_device_message>> cloud_to_device_;
};

struct rest_fixture_options {
  std::string host_name = "mockhub.azure-devices.net";
  std::optional<rest::tls_files> tls{};
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::seconds method_wait_margin{10};
  int max_concurrent_jobs = 1;
  /// Give the server an advance_clock callback (a hub on a virtual clock, as hub_runtime does);
  /// false: the server sees a system-clock hub.
  bool clock_control = false;
};

class rest_fixture {
 public:
  using headers = httplib::Headers;

  explicit rest_fixture(rest_fixture_options o = {}) : options_(std::move(o)), devices_(clock_) {
    core::hub_options h;
    h.host_name = options_.host_name;
    h.jobs.max_concurrent_jobs = options_.max_concurrent_jobs;
    hub_ = executor_.call([&] { return std::make_unique<core::hub>(h, clock_, ids_, devices_); });
    devices_.attach(*hub_);
    server_ = std::make_unique<rest::rest_server>(
        rest::rest_server_options{.tls = options_.tls,
                                  .max_body_bytes = options_.max_body_bytes,
                                  .method_wait_margin = options_.method_wait_margin,
                                  .seed = 7,
                                  .advance_clock = options_.clock_control ? std::function<core::time_point(core::duration)>(
                                                                                [this](core::duration by) {
                                                                                  advance(by);
                                                                                  return now();
                                                                                })
                                                                          : nullptr},
        executor_, *hub_);
    server_->start();
  }
  ~rest_fixture() {
    server_->stop();
    executor_.call([&] { hub_.reset(); });
    executor_.stop();
  }

  /// Runs `f(hub)` on the executor.
  template <class F>
  auto on_hub(F&& f) {
    return executor_.call([&]() { return f(*hub_); });
  }
  /// Moves the virtual clock on the executor, firing what becomes due (settles with 0 s).
  void advance(core::duration by) {
    executor_.call([&] { clock_.advance(by); });
  }
  void set_time(core::time_point t) {
    executor_.call([&] { clock_.set(t); });
  }
  core::time_point now() {
    return executor_.call([&] { return clock_.now(); });
  }

  std::uint16_t port() const { return server_->port(); }
  bool listening_ipv6() const { return server_->listening_ipv6(); }
  void stop_server() { server_->stop(); }
  fake_devices& devices() { return devices_; }
  const std::string& host_name() const { return options_.host_name; }

  /// A SAS token for `policy`, valid for an hour of hub time.
  std::string token(const std::string& policy = "iothubowner") {
    return on_hub([&](core::hub& h) {
      const auto* p = h.policies().find(policy);
      REQUIRE(p != nullptr);
      return core::sas_token::create(h.options().host_name, p->primary_key, h.time().now() + std::chrono::hours(1), policy);
    });
  }

  /// Registers a device and, when `online`, connects it and subscribes it to methods and desired patches.
  void add_device(const std::string& id, bool online = false) {
    on_hub([&](core::hub& h) {
      h.create_or_update_identity(id, {}, std::nullopt);
      return 0;
    });
    if (online) connect(id);
  }
  void connect(const std::string& id) {
    on_hub([&](core::hub& h) {
      core::connection_info info;
      info.generation = ++generation_;
      h.device_connected(id, info);
      h.device_subscribed(id, info.generation, core::device_subscription::methods);
      h.device_subscribed(id, info.generation, core::device_subscription::desired_patches);
      return 0;
    });
  }

  /// Subscribes the device's current connection to its devicebound topic (after connect()).
  void subscribe_cloud_to_device(const std::string& id) {
    on_hub([&](core::hub& h) {
      h.device_subscribed(id, generation_, core::device_subscription::cloud_to_device);
      return 0;
    });
  }

  httplib::Client client() {
    httplib::Client c("127.0.0.1", port());
    c.set_read_timeout(std::chrono::seconds(120));
    c.set_url_encode(false);  // paths go out exactly as the test wrote them
    return c;
  }

  /// The standard headers of an authenticated call (plus `extra`).
  headers auth(const headers& extra = {}, const std::string& policy = "iothubowner") {
    headers h = extra;
    h.emplace("Authorization", token(policy));
    return h;
  }

  static std::string with_api(const std::string& path) {
    return path + (path.find('?') == std::string::npos ? "?" : "&") + "api-version=2021-04-12";
  }

  httplib::Result get(const std::string& path, const headers& extra = {}) { return client().Get(with_api(path), auth(extra)); }
  httplib::Result del(const std::string& path, const headers& extra = {}) { return client().Delete(with_api(path), auth(extra)); }
  httplib::Result put(const std::string& path, const nlohmann::json& body, const headers& extra = {}) {
    return client().Put(with_api(path), auth(extra), body.dump(), "application/json; charset=utf-8");
  }
  httplib::Result patch(const std::string& path, const nlohmann::json& body, const headers& extra = {}) {
    return client().Patch(with_api(path), auth(extra), body.dump(), "application/json; charset=utf-8");
  }
  httplib::Result post(const std::string& path, const nlohmann::json& body, const headers& extra = {}) {
    return client().Post(with_api(path), auth(extra), body.dump(), "application/json; charset=utf-8");
  }
  httplib::Result post_empty(const std::string& path, const headers& extra = {}) {
    return client().Post(with_api(path), auth(extra), "", "application/json; charset=utf-8");
  }

 private:
  rest_fixture_options options_;
  core::virtual_clock clock_;
  core::id_source ids_{42};
  fake_devices devices_;
  server::hub_executor executor_{clock_, server::hub_executor::timers::virtual_time};
  std::unique_ptr<core::hub> hub_;
  std::unique_ptr<rest::rest_server> server_;
  std::uint64_t generation_ = 0;
};

/// A `PUT /jobs/v2/{id}` body: a twin job setting tags.fleet = "A" on every device, starting at `start_time`.
inline nlohmann::json twin_job(const std::string& id, const std::string& start_time) {
  return {{"jobId", id},
          {"type", "scheduleUpdateTwin"},
          {"updateTwin", {{"etag", "*"}, {"tags", {{"fleet", "A"}}}}},
          {"startTime", start_time},
          {"queryCondition", "*"}};
}

/// Sends `body` with Transfer-Encoding: chunked (no Content-Length), in pieces of `piece` bytes,
/// as PUT or PATCH.
inline httplib::Result send_chunked(httplib::Client client, const std::string& method, const std::string& path,
                                    const httplib::Headers& headers, const std::string& body, std::size_t piece) {
  std::size_t sent = 0;
  const auto provider = [&](std::size_t, httplib::DataSink& sink) {
    const std::size_t n = std::min(piece, body.size() - sent);
    sink.write(body.data() + sent, n);
    sent += n;
    if (sent == body.size()) sink.done();
    return true;
  };
  const std::string type = "application/json; charset=utf-8";
  return method == "PATCH" ? client.Patch(path, headers, provider, type) : client.Put(path, headers, provider, type);
}

/// The parsed JSON body of a response (fails the test when it is not JSON).
inline nlohmann::json body_of(const httplib::Result& r) {
  REQUIRE(r);
  INFO("body: " << r->body);
  return nlohmann::json::parse(r->body);
}

/// Asserts an IoT Hub error response: status, iothub-errorcode header, the body's Message
/// prefix `ErrorCode:<Name>;` with the numeric code at its end, the tracking id, and a phrase.
inline void check_error(const httplib::Result& r, int status, const std::string& name, int code,
                        const std::string& phrase = {}) {
  REQUIRE(r);
  INFO("status " << r->status << ", body: " << r->body);
  CHECK(r->status == status);
  CHECK(r->get_header_value("iothub-errorcode") == name);
  CHECK(r->get_header_value("Content-Type") == "application/json; charset=utf-8");
  CHECK_FALSE(r->get_header_value("x-ms-request-id").empty());
  const auto body = nlohmann::json::parse(r->body);
  REQUIRE(body.contains("Message"));
  const std::string message = body["Message"];
  CHECK_THAT(message, Catch::StartsWith("ErrorCode:" + name + ";"));
  CHECK_THAT(message, Catch::EndsWith(";errorCode:" + std::to_string(code)));
  if (!phrase.empty()) CHECK_THAT(message, Catch::Contains(phrase));
  CHECK_THAT(body["ExceptionMessage"].get<std::string>(), Catch::StartsWith("Tracking ID:"));
  CHECK_THAT(body["ExceptionMessage"].get<std::string>(), Catch::Contains("-G:0-TimeStamp:"));
}

}  // namespace mockhub::test
