// The broker killed with SIGKILL and restarted in the middle of a method job: the hub's broker link
// and the fleet's devices reconnect on their own, the job completes with statistics that add up
// (calls in flight at the kill fail DeviceNotOnline, docs/fidelity.md), and later jobs reach every
// device again.
#include <catch2/catch.hpp>

#include "fault_helpers.hpp"
#include "service/service_client.hpp"

using namespace mockhub;
using namespace std::chrono_literals;
using nlohmann::json;
using kind = device::fleet::fleet_event::kind;

namespace {

// Five devices that answer `reboot` at once, five that take the request and never answer (so
// their calls are in flight when the broker dies: the virtual clock never reaches the timeout).
device::fleet::fleet_fixture fleet() {
  return device::fleet::fleet_fixture::parse(json::parse(R"({
    "seed": 5,
    "behaviours": {
      "prompt": {"methods": {"reboot": {"status": 200, "payload": {"rebooted": true}}}},
      "stuck": {"methods": {"reboot": {"never_answers": true}}}
    },
    "groups": [
      {"prefix": "prompt-", "count": 5, "digits": 1, "behaviour": "prompt", "tags": {"kind": "prompt"}},
      {"prefix": "stuck-", "count": 5, "digits": 1, "behaviour": "stuck", "tags": {"kind": "stuck"}}
    ]
  })"));
}

std::vector<std::string> ids(const std::string& prefix) {
  std::vector<std::string> out;
  for (int i = 0; i < 5; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

// Polls the job (each poll is a REST round trip) until `pred` holds, at most `bound`.
template <class P>
service::job_response poll_job(service::service_client& backend, const std::string& id, P pred,
                               std::chrono::seconds bound = 30s) {
  const auto until = std::chrono::steady_clock::now() + bound;
  auto job = backend.jobs().get_job(id);
  while (!pred(job) && std::chrono::steady_clock::now() < until) job = backend.jobs().get_job(id);
  return job;
}

}  // namespace

TEST_CASE("The broker killed mid-job: hub and devices reconnect, calls in flight fail DeviceNotOnline, the job completes",
          "[faults]") {
  auto config = faults_test::hub_config(31);
  config.fleet = fleet();
  harness::test_hub hub(config);
  service::service_client backend(hub.service_connection_string(), hub.service_options(false));
  hub.wait_for_fleet_connected();
  for (const auto& group : {"prompt-", "stuck-"})
    for (const auto& id : ids(group)) hub.wait_for_subscribed(id, "methods");

  backend.jobs().schedule_device_method(
      {.job_id = "reboot-all", .query_condition = "*", .method = {.method_name = "reboot", .connect_timeout = 30s}});
  for (const auto& id : ids("stuck-")) hub.wait_for_fleet_event(id, kind::method_ignored, "reboot");
  const auto before = poll_job(backend, "reboot-all", [](const auto& j) { return j.statistics.succeeded_count == 5; });
  REQUIRE(before.statistics.succeeded_count == 5);
  REQUIRE(before.statistics.running_count == 5);

  hub.restart_broker(/*kill=*/true);

  // The five calls in flight died with the broker's connections: their records fail at once.
  const json job = hub.wait_for_job("reboot-all", "completed");
  CHECK(job["deviceJobStatistics"] ==
        json{{"deviceCount", 10}, {"failedCount", 5}, {"succeededCount", 5}, {"runningCount", 0}, {"pendingCount", 0}});
  std::size_t failed = 0;
  for (const auto& r : backend.query("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'reboot-all' AND devices.jobs.status = 'failed'")) {
    CHECK(r.at("deviceId").get<std::string>().starts_with("stuck-"));
    CHECK(r["error"]["code"] == "DeviceNotOnline");
    ++failed;
  }
  CHECK(failed == 5);

  // Every device reconnects by itself (a second `connected` event). The hub hears of connections
  // in the broker's order, so once it sees a device that connects after them all (never
  // connected before: no stale view), it has seen the fleet's new connections too.
  for (const auto& group : {"prompt-", "stuck-"})
    for (const auto& id : ids(group)) hub.wait_for_fleet_event(id, kind::connected, {}, 2);
  hub.create_device("probe");
  device::client probe(hub.device_connection_string("probe"), hub.device_options(false));
  probe.on_method("ping", [](const device::method_request&) { return device::method_response{200}; });
  probe.connect().get();
  hub.wait_for_subscribed("probe", "methods");
  for (const auto& group : {"prompt-", "stuck-"})
    for (const auto& id : ids(group)) hub.wait_for_subscribed(id, "methods");
  // Later jobs reach every device again.
  backend.jobs().schedule_device_method({.job_id = "reboot-prompt",
                                         .query_condition = "tags.kind = 'prompt'",
                                         .method = {.method_name = "reboot", .connect_timeout = 30s}});
  CHECK(hub.wait_for_job("reboot-prompt", "completed")["deviceJobStatistics"]["succeededCount"] == 5);
  backend.jobs().schedule_twin_update(
      {.job_id = "tag-all", .query_condition = "*", .patch = {{"properties", {{"desired", {{"epoch", 2}}}}}}});
  CHECK(hub.wait_for_job("tag-all", "completed")["deviceJobStatistics"] ==
        json{{"deviceCount", 11}, {"failedCount", 0}, {"succeededCount", 11}, {"runningCount", 0}, {"pendingCount", 0}});
}
