// A hub in the test process (mockhub::harness::test_hub), a device on the device library whose
// desired-properties handler is a trompeloeil mock, and a back end on the service library that
// schedules a twin job 10 s ahead on the hub's virtual clock.
#include <catch2/catch.hpp>
#include <catch2/trompeloeil.hpp>

#include <chrono>

#include <mockhub/device/client.hpp>
#include <mockhub/harness/test_hub.hpp>
#include <service/service_client.hpp>

using namespace std::chrono_literals;
using nlohmann::json;
using trompeloeil::_;

namespace {
struct desired_listener {
  MAKE_MOCK2(changed, void(const json&, mockhub::device::twin_update_state));
};
}  // namespace

TEST_CASE("a twin job sets the floor of every lock in building 43", "[in-process]") {
  mockhub::harness::test_hub hub({.virtual_clock = true, .seed = 1});

  desired_listener mock;
  mockhub::device::client lock(hub.create_device("frontDoor", {{"building", 43}}), hub.device_options());
  lock.on_desired_properties([&mock](const json& desired, mockhub::device::twin_update_state s) { mock.changed(desired, s); });
  {
    // On connecting, the client GETs the whole desired section once.
    REQUIRE_CALL(mock, changed(_, mockhub::device::twin_update_state::complete));
    REQUIRE(lock.connect().wait_for(30s));
    hub.wait_for_subscribed("frontDoor", "desired");
  }

  mockhub::service::service_client backend(hub.service_connection_string(), hub.service_options());
  backend.jobs().schedule_twin_update({.job_id = "floor-3",
                                       .query_condition = "tags.building = 43",
                                       .patch = {{"properties", {{"desired", {{"floor", 3}}}}}},
                                       .start_time = hub.now() + 10s});
  hub.wait_for_job("floor-3", "scheduled");

  REQUIRE_CALL(mock, changed(_, mockhub::device::twin_update_state::partial)).WITH(_1.value("floor", 0) == 3);
  hub.advance(10s);
  hub.wait_for_job("floor-3", "completed");
  hub.wait_for_desired_version("frontDoor", 2);

  // And the device's telemetry, as the hub received it.
  lock.send_telemetry({.body = R"({"battery":87})"}).wait_for(30s);
  CHECK(hub.wait_for_telemetry("frontDoor").at(0).body == R"({"battery":87})");
}
