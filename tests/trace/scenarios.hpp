// Sequential scenarios run against an in-process hub (back end through the service library over
// HTTP, devices through the device library): each step waits until the hub has handled the one
// before (on the hub's own trace), so a seeded virtual-clock run records the same trace every time.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <memory>
#include <string>

#include <mockhub/device/client.hpp>
#include <nlohmann/json.hpp>

#include "mock_hub/server/hub_runtime.hpp"
#include "service/service_client.hpp"
#include "trace_log.hpp"

namespace mockhub::test {

inline server::hub_runtime_options trace_hub_options(trace_log& log, std::filesystem::path record = {}) {
  server::hub_runtime_options o;
  o.virtual_time = true;
  o.seed = 43;
  o.record = std::move(record);
  o.on_trace_event = log.listener();
  return o;
}

inline service::client_options http_options(server::hub_runtime& hub) {
  return {.endpoint_override = service::endpoint{.scheme = "http", .host = "127.0.0.1", .port = hub.rest_port()}};
}

/// Holds devices' method replies until the scenario answers them, one device after the other:
/// devices answering on their own threads would reach the hub in a different order every run.
class reply_gate {
 public:
  void add(const std::string& device_id, device::method_reply reply) {
    {
      std::lock_guard lock(mutex_);
      replies_[device_id] = std::move(reply);
    }
    changed_.notify_all();
  }
  /// Answers `device_id`'s pending request (waiting for it, bounded) with the tutorial's 200.
  bool answer(const std::string& device_id) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, std::chrono::seconds(20), [&] { return replies_.contains(device_id); })) return false;
    auto reply = std::move(replies_[device_id]);
    replies_.erase(device_id);
    lock.unlock();
    reply.respond(200, {{"Response", "lockDoor called successfully"}});
    return true;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, device::method_reply> replies_;
};

/// A device-library client on the hub's plain MQTT port that answers `lockDoor` with 200 (through
/// `gate` when given) and takes desired patches; returns once the hub has answered the twin GET it
/// sends after connecting.
inline std::unique_ptr<device::client> connect_device(server::hub_runtime& hub, trace_log& log, const std::string& id,
                                                      std::shared_ptr<reply_gate> gate = nullptr) {
  device::client_options o;
  o.tls.enabled = false;
  o.host = "127.0.0.1";
  o.port = hub.mqtt_port();
  auto c = std::make_unique<device::client>(hub.device_connection_string(id), o);
  if (gate) {
    c->on_method_deferred("lockDoor", [gate, id](const device::method_request&, device::method_reply reply) {
      gate->add(id, std::move(reply));
    });
  } else {
    c->on_method("lockDoor", [](const device::method_request&) {
      return device::method_response{200, {{"Response", "lockDoor called successfully"}}};
    });
  }
  c->on_desired_properties([](const nlohmann::json&, device::twin_update_state) {});
  const std::size_t from = log.size();
  REQUIRE(c->connect().wait_for(std::chrono::seconds(20)));
  REQUIRE(log.wait_device_event("hub->device", "publish", id, "$iothub/twin/res/", from));
  return c;
}

/// Registry, twin, reported properties, telemetry, a direct method, a clock move and two errors.
inline void basic_scenario(server::hub_runtime& hub, trace_log& log) {
  service::service_client svc(hub.service_connection_string(), http_options(hub));
  svc.registry().create_device("lock1");
  auto lock = connect_device(hub, log, "lock1");

  svc.twins().update_twin("lock1", {{"properties", {{"desired", {{"floor", 3}}}}}});
  REQUIRE(lock->update_reported({{"locked", false}}).get() == 2);

  device::message m;
  m.body = R"({"temperature":21.5})";
  m.message_id = "m1";
  m.content_type = "application/json";
  m.properties["alert"] = "no";
  std::size_t from = log.size();
  lock->send_telemetry(m).get();
  REQUIRE(log.wait_device_event("device->hub", "publish", "lock1", "devices/lock1/messages/events/", from));

  const auto answer = svc.invoke_method("lock1", {.method_name = "lockDoor", .payload = {{"lockTime", "10m"}}});
  REQUIRE(answer.status == 200);

  hub.advance(std::chrono::seconds(90));
  REQUIRE_THROWS(svc.twins().get_twin("nosuchdevice"));
  REQUIRE_THROWS(svc.registry().create_device("lock1"));

  from = log.size();
  lock->close().wait_for(std::chrono::seconds(20));
  REQUIRE(log.wait_device_event("device->hub", "disconnect", "lock1", {}, from));
}

/// Waits until no device of `job_id` is running (every device the hub asked has answered), then
/// moves the clock a second, until the job is completed: a job run one deterministic step at a time.
inline void run_job_to_completion(server::hub_runtime& hub, const std::string& job_id) {
  for (int step = 0; step < 120; ++step) {
    REQUIRE(hub.wait_until([&](core::hub& h) { return h.jobs().get_scheduled_job(job_id).statistics.running_count == 0; }));
    if (hub.call([&](core::hub& h) { return h.jobs().get_scheduled_job(job_id).status == core::job_status::completed; }))
      return;
    hub.advance(std::chrono::seconds(1));
  }
  FAIL("job " + job_id + " did not complete within 120 virtual seconds");
}

/// The tutorial: the door locks of building 43 (and one elsewhere) connect; a twin job and a
/// lockDoor job, each scheduled 5 s ahead, run to completion; their statuses and device records are read.
inline void tutorial_scenario(server::hub_runtime& hub, trace_log& log) {
  service::service_client svc(hub.service_connection_string(), http_options(hub));
  std::vector<std::unique_ptr<device::client>> locks;
  auto gate = std::make_shared<reply_gate>();
  for (const auto& [id, building] : std::vector<std::pair<std::string, int>>{{"lock1", 43}, {"lock2", 43}, {"lock3", 43}, {"lock9", 44}}) {
    svc.registry().create_device(id);
    svc.twins().update_twin(id, {{"tags", {{"building", building}}}});
    locks.push_back(connect_device(hub, log, id, gate));
  }
  // One job at a time, as the hub's tier allows (429004 otherwise), each scheduled 5 s ahead.
  svc.jobs().schedule_twin_update({.job_id = "twin-43",
                                   .query_condition = "tags.building = 43",
                                   .patch = {{"properties", {{"desired", {{"building", 43}, {"floor", 3}}}}}},
                                   .start_time = hub.now() + std::chrono::seconds(5)});
  REQUIRE(svc.jobs().get_job("twin-43").status == service::job_status::scheduled);
  hub.advance(std::chrono::seconds(5));
  run_job_to_completion(hub, "twin-43");
  svc.jobs().schedule_device_method({.job_id = "lock-43",
                                     .query_condition = "tags.building = 43",
                                     .method = {.method_name = "lockDoor", .payload = {{"lockTime", "10m"}}},
                                     .start_time = hub.now() + std::chrono::seconds(5)});
  REQUIRE(svc.jobs().get_job("lock-43").status == service::job_status::scheduled);
  hub.advance(std::chrono::seconds(5));
  for (const char* id : {"lock1", "lock2", "lock3"}) {
    const std::size_t from = log.size();
    REQUIRE(gate->answer(id));
    REQUIRE(log.wait_device_event("device->hub", "publish", id, "$iothub/methods/res/", from));
  }
  run_job_to_completion(hub, "lock-43");
  REQUIRE(svc.jobs().get_job("twin-43").status == service::job_status::completed);
  REQUIRE(svc.jobs().get_job("lock-43").status == service::job_status::completed);
  REQUIRE(svc.jobs().device_job_records("lock-43").to_vector().size() == 3);
  REQUIRE(svc.jobs().device_job_records("twin-43").to_vector().size() == 3);
  REQUIRE(svc.query("SELECT * FROM devices WHERE properties.desired.floor = 3").to_vector().size() == 3);
  for (auto& lock : locks) {
    const std::size_t from = log.size();
    const std::string id = lock->device_id();
    lock->close().wait_for(std::chrono::seconds(20));
    REQUIRE(log.wait_device_event("device->hub", "disconnect", id, {}, from));
  }
}

/// Registry and twin requests the hub refuses, each with its status and error code.
inline void registry_twin_errors_scenario(server::hub_runtime& hub, trace_log&) {
  service::service_client svc(hub.service_connection_string(), http_options(hub));
  const auto refused = [](auto&& f) {
    try {
      f();
    } catch (const service::iothub_error&) {
      return true;
    }
    return false;
  };
  svc.registry().create_device("lock1");
  REQUIRE(refused([&] { svc.registry().get_device("nosuchdevice"); }));                 // 404 DeviceNotFound
  REQUIRE(refused([&] { svc.registry().create_device("lock1"); }));                      // 409 DeviceAlreadyExists
  REQUIRE(refused([&] { svc.registry().create_device("bad id!"); }));                    // 400 invalid id
  REQUIRE(refused([&] { svc.registry().delete_device("lock1", service::if_match::etag("nope")); }));  // 412
  REQUIRE(refused([&] { svc.twins().get_twin("nosuchdevice"); }));                       // 404
  REQUIRE(refused([&] { svc.twins().update_twin("lock1", {{"tags", {{"a", 1}}}}, service::if_match::etag("nope")); }));  // 412
  REQUIRE(refused([&] { svc.twins().update_twin("lock1", {{"properties", {{"reported", {{"a", 1}}}}}}); }));  // 400 reported
  REQUIRE(refused([&] { svc.twins().update_twin("nosuchdevice", {{"tags", {{"a", 1}}}}); }));  // 404
  svc.twins().update_twin("lock1", {{"tags", {{"building", 43}}}});
  REQUIRE(svc.twins().get_twin("lock1").tags == nlohmann::json{{"building", 43}});
  svc.registry().delete_device("lock1");
  REQUIRE(refused([&] { svc.registry().delete_device("lock1"); }));                      // 404 after delete
}

/// Runs `scenario` on a fresh seeded virtual-clock hub that records into `file`.
template <class Scenario>
void record_scenario(const std::filesystem::path& file, Scenario&& scenario) {
  trace_log log;
  server::hub_runtime hub(trace_hub_options(log, file));
  hub.start();
  scenario(hub, log);
  hub.stop();
}

}  // namespace mockhub::test
