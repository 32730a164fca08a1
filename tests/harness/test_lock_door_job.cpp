// The documented example (docs/harness.md): a trompeloeil mock answers `lockDoor` on a device
// client; a job scheduled with the service library 20 s ahead invokes it once the virtual clock
// has moved there.
#include <catch2/catch.hpp>
#include <catch2/trompeloeil.hpp>

#include <chrono>

#include <mockhub/device/client.hpp>
#include <mockhub/harness/test_hub.hpp>

#include "service/service_client.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
namespace device = mockhub::device;
namespace service = mockhub::service;
using trompeloeil::_;

namespace {

struct lock_handler {
  MAKE_MOCK1(lockDoor, device::method_response(const device::method_request&));
};

}  // namespace

TEST_CASE("A lockDoor job scheduled 20 s ahead calls the device's mock handler when the clock gets there", "[harness][job]") {
  mockhub::harness::test_hub hub({.virtual_clock = true, .seed = 7});

  lock_handler mock;
  device::client lock(hub.create_device("frontDoor", {{"building", 43}}), hub.device_options());
  lock.on_method("lockDoor", [&mock](const device::method_request& r) { return mock.lockDoor(r); });
  REQUIRE(lock.connect().wait_for(30s));
  hub.wait_for_subscribed("frontDoor", "methods");

  service::service_client backend(hub.service_connection_string(), hub.service_options());
  backend.jobs().schedule_device_method({.job_id = "lock-building-43",
                                         .query_condition = "tags.building = 43",
                                         .method = {.method_name = "lockDoor", .payload = {{"lockTime", "10m"}}},
                                         .start_time = hub.now() + 20s});
  hub.wait_for_job("lock-building-43", "scheduled");

  SECTION("nothing is called before the start time") {
    FORBID_CALL(mock, lockDoor(_));
    hub.advance(19s);
    CHECK(backend.jobs().get_job("lock-building-43").status == service::job_status::scheduled);
  }

  SECTION("at the start time the device is called once and the job completes") {
    REQUIRE_CALL(mock, lockDoor(_))
        .WITH(_1.method_name == "lockDoor" && _1.payload == json{{"lockTime", "10m"}})
        .RETURN(device::method_response{200, {{"locked", true}}})
        .TIMES(1);
    hub.advance(20s);
    const json job = hub.wait_for_job("lock-building-43", "completed");
    CHECK(job["deviceJobStatistics"]["deviceCount"] == 1);
    CHECK(job["deviceJobStatistics"]["succeededCount"] == 1);
    CHECK(job["startTime"] == "2026-01-01T00:00:20.0000000Z");

    auto records = backend.jobs().device_job_records("lock-building-43");
    auto it = records.begin();
    REQUIRE(it != records.end());
    CHECK(it->device_id == "frontDoor");
    REQUIRE(it->outcome);
    CHECK(it->outcome->status == 200);
    CHECK(it->outcome->payload == json{{"locked", true}});
  }
}
