// The tutorial end to end with the fleet simulator as the devices: door locks registered through
// the REST API by the service library, connected by the fleet simulator (device library, real
// MQTT through mosquitto and the plugin), a twin job and a lockDoor job scheduled and followed
// through the service library, on a virtual-clock hub.
#include <catch2/catch.hpp>

#include <mockhub/device/fleet/simulator.hpp>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "service_fixture.hpp"

using namespace mockhub;
using namespace mockhub::service;
using nlohmann::json;
using namespace std::chrono_literals;
using test::service_fixture;

namespace {

// 40 locks in building 43 (one jammed: answers 500; one ghost: never answers), 5 locks in
// building 44, and one lock of building 43 that is registered but never connects.
constexpr const char* fleet_json = R"({
  "seed": 43,
  "behaviours": {
    "lock": {
      "methods": {"lockDoor": {"status": 200, "payload": {"Response": "lockDoor called successfully"}, "latency_ms": {"uniform": [0, 20]}}},
      "desired_echo": true
    },
    "jammed": {"methods": {"lockDoor": {"failure_rate": 1.0, "failure_status": 500, "failure_payload": {"message": "bolt jammed"}}}},
    "ghost": {"methods": {"lockDoor": {"never_answers": true}}}
  },
  "devices": [
    {"id": "jammed-lock", "behaviour": "jammed", "tags": {"building": 43}},
    {"id": "ghost-lock", "behaviour": "ghost", "tags": {"building": 43}},
    {"id": "offline-lock", "behaviour": "lock", "tags": {"building": 43}}
  ],
  "groups": [
    {"prefix": "lock-", "count": 38, "digits": 2, "behaviour": "lock", "tags": {"building": 43}},
    {"prefix": "annex-", "count": 5, "behaviour": "lock", "tags": {"building": 44}}
  ]
})";

// Fleet events, collected from the loop's thread; waits are bounded.
class event_log {
 public:
  void add(const device::fleet::fleet_event& e) {
    std::lock_guard lock(mutex_);
    ++counts_[e.what];
    changed_.notify_all();
  }
  bool wait_count(device::fleet::fleet_event::kind k, std::size_t n, std::chrono::seconds bound = 60s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, bound, [&] { return counts_[k] >= n; });
  }
  std::size_t count(device::fleet::fleet_event::kind k) {
    std::lock_guard lock(mutex_);
    return counts_[k];
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<device::fleet::fleet_event::kind, std::size_t> counts_;
};

std::map<std::string, device_job_record> records_by_device(job_client& jobs, const std::string& job_id) {
  std::map<std::string, device_job_record> out;
  for (auto& r : jobs.device_job_records(job_id, 100)) out.emplace(r.device_id, r);
  return out;
}

}  // namespace

TEST_CASE_METHOD(service_fixture, "The tutorial over REST, the service library and a simulated fleet of door locks",
                 "[service][jobs][e2e][fleet]") {
  using kind = device::fleet::fleet_event::kind;
  auto fixture = device::fleet::fleet_fixture::parse(json::parse(fleet_json));
  REQUIRE(fixture.devices.size() == 46);

  // Registration through the REST API (Devices_CreateOrUpdateIdentity, Devices_UpdateTwin).
  std::map<std::string, std::string> keys;
  for (const auto& d : fixture.devices) {
    const auto created = client->registry().create_device(d.id);
    CHECK(created.device_id == d.id);
    REQUIRE_FALSE(created.primary_key.empty());
    keys[d.id] = created.primary_key;
    client->twins().update_twin(d.id, {{"tags", d.tags}});
  }
  CHECK(client->registry().get_device_statistics().total_device_count == 46);
  REQUIRE(hub.wait_credentials_applied());

  device::fleet::fleet_options options;
  options.host_name = hub.host_name();
  options.port = hub.mqtt_port();
  options.key_for = [&keys](const device::fleet::device_spec& d) -> std::optional<std::string> {
    if (d.id == "offline-lock") return std::nullopt;  // registered, never connects
    return keys.at(d.id);
  };
  device::event_loop loop;
  device::fleet::fleet_simulator fleet(loop, fixture, options);
  event_log events;
  fleet.on_event([&](const device::fleet::fleet_event& e) { events.add(e); });
  fleet.start();
  std::thread driver([&] { loop.run(); });
  struct stop_loop {
    device::event_loop& loop;
    device::fleet::fleet_simulator& fleet;
    std::thread& driver;
    ~stop_loop() {
      loop.post([this] {
        fleet.stop();
        loop.stop();
      });
      driver.join();
    }
  } stopper{loop, fleet, driver};

  REQUIRE(events.wait_count(kind::connected, 45));
  // Connected and subscribed, as the hub sees it (subscriptions follow the CONNACK): all 45 to
  // methods, the 43 echoing "lock" devices to desired patches too.
  REQUIRE(hub.wait_until([](core::hub& h) {
    std::size_t methods = 0, desired = 0;
    h.registry().for_each_identity([&](const core::device_identity& d) {
      methods += h.sessions().is_subscribed(d.device_id, core::device_subscription::methods);
      desired += h.sessions().is_subscribed(d.device_id, core::device_subscription::desired_patches);
    });
    return methods == 45 && desired == 43;
  }));
  const auto t0 = hub.now();

  // The twin job, 10 s after start, on building 43 (41 devices, one of them offline: a twin
  // update needs no connection, the offline lock reads it when it connects).
  const auto twin_created = client->jobs().schedule_twin_update(
      {.job_id = "twin-job", .query_condition = "tags.building = 43",
       .patch = {{"properties", {{"desired", {{"building", 43}, {"floor", 3}}}}}}, .start_time = t0 + 10s});
  CHECK(twin_created.status == job_status::queued);
  const auto twin_done =
      client->jobs().wait_for_completion("twin-job", {.poll_interval = 1s, .pause = advance_pause("twin-job")});
  CHECK(twin_done.status == job_status::completed);
  CHECK(twin_done.statistics ==
        job_statistics{.device_count = 41, .failed_count = 0, .succeeded_count = 41, .running_count = 0, .pending_count = 0});
  CHECK(twin_done.start_time == core::format_time(t0 + 10s));

  // The 38 "lock" devices of building 43 echo the desired properties back as reported ones;
  // the query sees them.
  REQUIRE(events.wait_count(kind::desired_received, 38));
  REQUIRE(events.wait_count(kind::reported_acked, 38));
  const auto echoed =
      client->query("SELECT COUNT() AS n FROM devices WHERE properties.reported.building = 43 AND properties.reported.floor = 3")
          .to_vector();
  CHECK(echoed == std::vector<json>{{{"n", 38}}});
  const auto offline_twin = client->twins().get_twin("offline-lock");
  CHECK(offline_twin.desired.at("building") == 43);
  CHECK(offline_twin.desired.at("floor") == 3);
  CHECK(offline_twin.desired.at("$version") == 2);
  CHECK_FALSE(client->twins().get_twin("annex-0").desired.contains("building"));

  // The method job, 20 s after start. The ghost never answers: its response timeout (30 s of
  // virtual time) fails it with 504101; the offline lock fails with DeviceNotOnline; the jammed
  // one answers 500, which is a completed device operation whose outcome carries the 500.
  const auto method_created = client->jobs().schedule_device_method(
      {.job_id = "method-job", .query_condition = "tags.building = 43",
       .method = {.method_name = "lockDoor", .payload = {{"lockTime", "10m"}}, .response_timeout = 30s},
       .start_time = t0 + 20s});
  CHECK(method_created.status == job_status::queued);
  const auto method_done = client->jobs().wait_for_completion(
      "method-job", {.poll_interval = 1s, .pause = [&](std::chrono::milliseconds step) {
                       // Everything but the ghost answers in real time; then virtual time moves.
                       hub.wait_until([](core::hub& h) {
                         return h.jobs().get_scheduled_job("method-job").statistics.running_count <= 1;
                       });
                       hub.advance(step);
                     }});
  CHECK(method_done.status == job_status::completed);
  CHECK(method_done.statistics ==
        job_statistics{.device_count = 41, .failed_count = 2, .succeeded_count = 39, .running_count = 0, .pending_count = 0});
  CHECK(method_done.start_time == core::format_time(t0 + 20s));
  CHECK(method_done.end_time == core::format_time(t0 + 50s));  // the ghost's 30 s response timeout

  const auto records = records_by_device(client->jobs(), "method-job");
  REQUIRE(records.size() == 41);
  CHECK(records.count("annex-0") == 0);
  for (int i = 0; i < 38; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "lock-%02d", i);
    const auto& r = records.at(id);
    CHECK(r.status == device_job_status::completed);
    REQUIRE(r.outcome);
    CHECK(*r.outcome == method_response{200, {{"Response", "lockDoor called successfully"}}});
  }
  const auto& jammed = records.at("jammed-lock");
  CHECK(jammed.status == device_job_status::completed);
  REQUIRE(jammed.outcome);
  CHECK(*jammed.outcome == method_response{500, {{"message", "bolt jammed"}}});
  const auto& ghost = records.at("ghost-lock");
  CHECK(ghost.status == device_job_status::failed);
  REQUIRE(ghost.error);
  CHECK(ghost.error->code == "GatewayTimeout");
  const auto& offline = records.at("offline-lock");
  CHECK(offline.status == device_job_status::failed);
  REQUIRE(offline.error);
  CHECK(offline.error->code == "DeviceNotOnline");

  // The devices saw it too: every connected lock of building 43 received lockDoor once.
  CHECK(events.count(kind::method_answered) == 39);
  CHECK(events.count(kind::method_ignored) == 1);
}
