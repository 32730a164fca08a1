// A device that drops in the middle of something: a direct method, a twin update, a job. The caller
// gets the documented outcome (docs/fidelity.md) and the hub keeps serving: each test ends with a
// normal round trip.
#include <catch2/catch.hpp>

#include <future>
#include <map>

#include "fault_helpers.hpp"
#include "service/errors.hpp"
#include "service/service_client.hpp"

using namespace mockhub;
using namespace std::chrono_literals;
using faults_test::connection_log;
using nlohmann::json;

namespace {

// A device that answers `method` with 200 and the request's payload.
std::unique_ptr<device::client> answering_device(harness::test_hub& hub, const std::string& id, const std::string& method) {
  auto d = std::make_unique<device::client>(hub.device_connection_string(id), hub.device_options(false));
  d->on_method(method, [](const device::method_request& r) { return device::method_response{200, r.payload}; });
  d->connect().get();
  hub.wait_for_subscribed(id, "methods");
  return d;
}

}  // namespace

TEST_CASE("A device that drops while a direct method waits for its answer: the caller gets 404103 at once",
          "[faults]") {
  harness::test_hub hub(faults_test::hub_config(21));
  hub.create_device("dev1");
  service::service_client backend(hub.service_connection_string(), hub.service_options(false));

  device::client d(hub.device_connection_string("dev1"), hub.device_options(false));
  std::promise<void> received;
  d.on_method_deferred("reboot", [&](const device::method_request&, device::method_reply) { received.set_value(); });
  d.connect().get();
  hub.wait_for_subscribed("dev1", "methods");

  // Virtual clock: the 30 s response timeout cannot pass, so only the drop can end the call.
  auto call = std::async(std::launch::async, [&] { return backend.invoke_method("dev1", {.method_name = "reboot"}); });
  REQUIRE(received.get_future().wait_for(30s) == std::future_status::ready);
  d.close().get();
  REQUIRE(call.wait_for(30s) == std::future_status::ready);
  try {
    call.get();
    FAIL("the call succeeded");
  } catch (const service::iothub_error& e) {
    CHECK(e.http_status() == 404);
    CHECK(e.error_code() == 404103);
  }

  // The hub keeps serving: the device comes back and the same call goes through.
  auto again = answering_device(hub, "dev1", "reboot");
  const auto answer = backend.invoke_method("dev1", {.method_name = "reboot", .payload = {{"n", 2}}});
  CHECK(answer.status == 200);
  CHECK(answer.payload == json{{"n", 2}});
}

TEST_CASE("A device that drops right after sending a reported patch: the patch is applied and seen on reconnect",
          "[faults]") {
  harness::test_hub hub(faults_test::hub_config(22));
  hub.create_device("dev1");
  service::service_client backend(hub.service_connection_string(), hub.service_options(false));

  device::client d(hub.device_connection_string("dev1"), hub.device_options(false));
  d.connect().get();
  d.get_twin().get();  // subscribed to twin responses: the patch below is published at once
  auto update = d.update_reported({{"firmware", "2.0"}});
  d.close().get();  // the PUBLISH is written before the DISCONNECT; the 204 finds nobody
  CHECK(update.wait_for(30s));

  // The broker routed the patch before it saw the DISCONNECT, so the hub applied it before it
  // serves the next connection's GET (one link, one executor, in order).
  device::client back(hub.device_connection_string("dev1"), hub.device_options(false));
  back.connect().get();
  const auto twin = back.get_twin().get();
  CHECK(twin.reported.value("firmware", "") == "2.0");
  CHECK(twin.reported_version() == 2);
  CHECK(backend.twins().get_twin("dev1").reported.value("firmware", "") == "2.0");

  // A desired change made while it is away is not lost either: the next GET shows it.
  back.close().get();
  const auto written = backend.twins().update_twin("dev1", {{"properties", {{"desired", {{"interval", 5}}}}}});
  CHECK(written.desired.value("$version", 0) == 2);
  device::client third(hub.device_connection_string("dev1"), hub.device_options(false));
  third.connect().get();
  const auto seen = third.get_twin().get();
  CHECK(seen.desired.value("interval", 0) == 5);
  CHECK(seen.desired_version() == 2);
  // A normal round trip on the connection.
  CHECK(third.update_reported({{"interval", 5}}).get() == 3);
}

TEST_CASE("A device that drops mid-job: its record fails DeviceNotOnline, the others succeed, the job completes",
          "[faults]") {
  harness::test_hub hub(faults_test::hub_config(23));
  hub.create_device("steady");
  hub.create_device("flaky");
  service::service_client backend(hub.service_connection_string(), hub.service_options(false));

  auto steady = answering_device(hub, "steady", "lockDoor");
  std::promise<void> received;
  device::client flaky(hub.device_connection_string("flaky"), hub.device_options(false));
  flaky.on_method_deferred("lockDoor", [&](const device::method_request&, device::method_reply) { received.set_value(); });
  flaky.connect().get();
  hub.wait_for_subscribed("flaky", "methods");

  backend.jobs().schedule_device_method({.job_id = "lock-all",
                                         .query_condition = "*",
                                         .method = {.method_name = "lockDoor", .payload = {{"by", "job"}}}});
  REQUIRE(received.get_future().wait_for(30s) == std::future_status::ready);
  flaky.close().get();
  const json job = hub.wait_for_job("lock-all", "completed");
  CHECK(job["deviceJobStatistics"] ==
        json{{"deviceCount", 2}, {"failedCount", 1}, {"succeededCount", 1}, {"runningCount", 0}, {"pendingCount", 0}});

  std::map<std::string, json> records;
  for (const auto& r : backend.query("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'lock-all'"))
    records[r.at("deviceId").get<std::string>()] = r;
  REQUIRE(records.size() == 2);
  CHECK(records["steady"]["status"] == "completed");
  CHECK(records["steady"]["outcome"]["deviceMethodResponse"] == json{{"status", 200}, {"payload", {{"by", "job"}}}});
  CHECK(records["flaky"]["status"] == "failed");
  CHECK(records["flaky"]["error"]["code"] == "DeviceNotOnline");

  // The hub keeps serving: a twin job over both (one offline) completes, and a method call works.
  backend.jobs().schedule_twin_update(
      {.job_id = "floor-3", .query_condition = "*", .patch = {{"properties", {{"desired", {{"floor", 3}}}}}}});
  CHECK(hub.wait_for_job("floor-3", "completed")["deviceJobStatistics"]["succeededCount"] == 2);
  CHECK(backend.invoke_method("steady", {.method_name = "lockDoor"}).status == 200);
}
